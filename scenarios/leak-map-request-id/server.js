// An HTTP server that tracks in-flight requests in a Map keyed by request id and forgets to
// delete the entry when the response is sent.
'use strict';
const http = require('http');

class PendingRequest {
  constructor(id, method, url) {
    this.id = id;
    this.method = method;
    this.url = url;
    this.receivedAt = Date.now();
  }
}

const inFlight = new Map();
let nextId = 0;

const server = http.createServer((req, res) => {
  const id = `req-${nextId++}`;
  inFlight.set(id, new PendingRequest(id, req.method, req.url));
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ id, ok: true }));
  // Bug: inFlight.delete(id) is missing.
});

server.listen(0, '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
