// An HTTP server whose handler keeps an AuditEntry per request "for later inspection" in a list
// hung off the server object.
'use strict';
const http = require('http');

class AuditEntry {
  constructor(method, url, headers) {
    this.method = method;
    this.url = url;
    this.userAgent = headers['user-agent'] || '';
    this.at = Date.now();
  }
}

const server = http.createServer((req, res) => {
  server.auditLog.push(new AuditEntry(req.method, req.url, req.headers));
  res.end('ok\n');
});
server.auditLog = [];

server.listen(0, '127.0.0.1', () => {
  console.log(`audit server listening on ${server.address().port}`);
});
