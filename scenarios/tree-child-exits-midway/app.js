// A parent that hands work to a forked helper; the helper finishes after a few jobs and exits
// while the hunt is still running. A child exiting mid-hunt is reported, not a failure.
'use strict';
const { fork } = require('child_process');
const path = require('path');

const helper = fork(path.join(__dirname, 'helper.js'));
let nextId = 0;
const waiting = new Map();
helper.on('message', ({ id }) => {
  waiting.get(id)?.();
  waiting.delete(id);
});
let helperGone = false;
helper.on('exit', () => {
  helperGone = true;
  for (const resolve of waiting.values()) resolve();
  waiting.clear();
});

globalThis.work = async function work() {
  if (helperGone) return;
  const id = nextId++;
  await new Promise((resolve) => {
    waiting.set(id, resolve);
    helper.send({ id });
  });
};

// Stay up like a service would once the helper is gone.
setInterval(() => {}, 60_000);
console.log('parent ready');
