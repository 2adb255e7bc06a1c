// A small API whose clients connect, ask once and hang up: every connection brings a socket,
// a parser and request/response objects, and all of them are gone once the connection closes.
'use strict';
const http = require('http');

class Lookup {
  constructor(key) {
    this.key = key;
    this.value = key.split('').reverse().join('');
  }
}

const server = http.createServer((req, res) => {
  const lookup = new Lookup(req.url.slice(1) || 'empty');
  res.setHeader('content-type', 'text/plain');
  res.end(lookup.value);
});

server.listen(0, '127.0.0.1', () => {
  console.log(`lookup service listening on ${server.address().port}`);
});
