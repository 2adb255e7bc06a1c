// A cluster of two HTTP workers behind the primary's round-robin balancer. Every worker keeps a
// SessionRecord per request; the primary only balances connections and stays clean.
'use strict';
const cluster = require('cluster');
const http = require('http');

const WORKERS = 2;

if (cluster.isPrimary) {
  let listening = 0;
  for (let i = 0; i < WORKERS; i++) cluster.fork();
  cluster.on('listening', (worker, address) => {
    listening++;
    // Announce the port only when every worker can take connections, so the balancer alternates
    // between all of them from the first request.
    if (listening === WORKERS) console.log(`cluster listening on ${address.port}`);
  });
} else {
  class SessionRecord {
    constructor(workerId, url) {
      this.workerId = workerId;
      this.url = url;
      this.seenAt = Date.now();
    }
  }

  const sessions = [];
  const server = http.createServer((req, res) => {
    sessions.push(new SessionRecord(cluster.worker.id, req.url)); // Bug: never expired.
    // One request per connection: the primary hands each new connection to the next worker,
    // so both workers get half of the requests.
    res.setHeader('connection', 'close');
    res.end(`worker ${cluster.worker.id}\n`);
  });
  server.listen(0, '127.0.0.1');
}
