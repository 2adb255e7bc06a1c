// A rendering worker thread: it memoises every rendered page by job id, and job ids never repeat,
// so the memo only grows.
'use strict';
const { parentPort } = require('worker_threads');

class RenderedPage {
  constructor(id, html) {
    this.id = id;
    this.html = html;
    this.renderedAt = Date.now();
  }
}

const memo = new Map();

parentPort.on('message', ({ id, template, data }) => {
  const html = template.replace(/\{(\w+)\}/g, (_, key) => String(data[key]));
  memo.set(id, new RenderedPage(id, html)); // Bug: keyed by a never-repeating id, never evicted.
  parentPort.postMessage({ id, html });
});
