// A request/response correlator that parks a Deferred for every outgoing request and only
// settles it if a reply arrives; replies for most requests never come, and nothing times out.
'use strict';

class Deferred {
  constructor(requestId) {
    this.requestId = requestId;
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

const waiting = [];
let nextRequest = 0;

function sendRequest() {
  const deferred = new Deferred(nextRequest++);
  waiting.push(deferred);
  return deferred;
}

function deliverReply(requestId, value) {
  const index = waiting.findIndex((d) => d.requestId === requestId);
  if (index >= 0) waiting.splice(index, 1)[0].resolve(value);
}

globalThis.rpc = { sendRequest, deliverReply };
console.log('rpc ready');
setInterval(() => {}, 1 << 30);
