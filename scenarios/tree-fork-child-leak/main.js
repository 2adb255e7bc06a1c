// The parent hands jobs to a forked child over IPC and keeps nothing once a reply arrives.
'use strict';
const { fork } = require('child_process');
const path = require('path');

const child = fork(path.join(__dirname, 'child.js'));
const waiting = new Map();
let nextJob = 0;

child.on('message', (msg) => {
  const resolve = waiting.get(msg.id);
  if (resolve) {
    waiting.delete(msg.id);
    resolve(msg.result);
  }
});

function runJob(input) {
  const id = nextJob++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    child.send({ id, input });
  });
}

async function runJobs(count) {
  const results = await Promise.all(Array.from({ length: count }, (_, i) => runJob(`job-${i}`)));
  return results.length;
}

globalThis.runJobs = runJobs;
runJob('ping').then(() => console.log('parent ready, child answered'));
