// The main thread hands jobs to a dispatcher worker, which forwards each one to an indexer
// worker it started itself: a worker inside a worker.
'use strict';
const { Worker } = require('worker_threads');
const path = require('path');

const dispatcher = new Worker(path.join(__dirname, 'dispatcher.js'));
const waiting = new Map();
let nextJob = 0;

dispatcher.on('message', ({ id }) => {
  const resolve = waiting.get(id);
  if (resolve) {
    waiting.delete(id);
    resolve();
  }
});

function submit(document) {
  const id = nextJob++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    dispatcher.postMessage({ id, document });
  });
}

async function indexDocuments(count) {
  await Promise.all(Array.from({ length: count }, (_, i) => submit(`doc-${i}`)));
}

globalThis.indexDocuments = indexDocuments;
submit('warmup').then(() => console.log('main ready, indexer answered'));
