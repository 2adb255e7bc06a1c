// Indexes each document and keeps every IndexEntry in a journal that is never trimmed.
'use strict';
const { parentPort } = require('worker_threads');

class IndexEntry {
  constructor(id, document) {
    this.id = id;
    this.terms = document.split('-');
    this.indexedAt = Date.now();
  }
}

const journal = [];

parentPort.on('message', ({ id, document }) => {
  journal.push(new IndexEntry(id, document));
  parentPort.postMessage({ id });
});
