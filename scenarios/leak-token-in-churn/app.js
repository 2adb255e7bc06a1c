// Heavy garbage churn with one small leak hidden in it: each batch builds 100,000 temporary
// objects and keeps exactly one Token (a "revocation token" cached and never expired).
'use strict';

class Token {
  constructor(id) {
    this.id = id;
  }
}

class Scratch {
  constructor(i) {
    this.i = i;
    this.label = 'row';
  }
}

const revoked = new Set();
let batch = 0;

function processBatch() {
  let checksum = 0;
  for (let i = 0; i < 100000; i++) {
    const row = new Scratch(i);
    checksum += row.i & 7;
  }
  revoked.add(new Token(batch++)); // the leak: one Token per batch, forever
  return checksum;
}

globalThis.processBatch = processBatch;
console.log('batcher ready');
setInterval(() => {}, 1 << 30);
