// The main thread sends render jobs to a worker thread and keeps nothing once they come back.
'use strict';
const { Worker } = require('worker_threads');
const path = require('path');

const worker = new Worker(path.join(__dirname, 'render-worker.js'));
const waiting = new Map();
let nextJob = 0;

worker.on('message', ({ id, html }) => {
  const resolve = waiting.get(id);
  if (resolve) {
    waiting.delete(id);
    resolve(html);
  }
});

function render(template, data) {
  const id = nextJob++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    worker.postMessage({ id, template, data });
  });
}

async function renderPages(count) {
  const pages = await Promise.all(Array.from({ length: count }, (_, i) => render('<h1>{title}</h1>', { title: `page ${i}` })));
  return pages.length;
}

globalThis.renderPages = renderPages;
render('{x}', { x: 'ping' }).then(() => console.log('main ready, worker answered'));
