// An in-memory "request log" that only ever grows: every handled request leaves a RequestTrace
// in a module-level array that nothing trims.
'use strict';

class RequestTrace {
  constructor(id, path) {
    this.id = id;
    this.path = path;
    this.startedAt = Date.now();
    this.tags = ['api', 'v1'];
  }
}

const traces = [];
let nextId = 0;

function handleRequests(count) {
  for (let i = 0; i < count; i++) {
    const id = nextId++;
    traces.push(new RequestTrace(id, `/orders/${id}`));
  }
  return traces.length;
}

globalThis.handleRequests = handleRequests;
console.log('app ready');
setInterval(() => {}, 1 << 30); // stay alive like a server would
