// A JSON API that handles each request and keeps nothing per request.
'use strict';
const http = require('http');

class Quote {
  constructor(symbol) {
    this.symbol = symbol;
    this.price = 100 + (symbol.length % 7);
  }
}

const server = http.createServer((req, res) => {
  const symbol = new URL(req.url, 'http://x').searchParams.get('symbol') || 'ACME';
  const quote = new Quote(symbol);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(quote));
});

server.listen(0, '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
