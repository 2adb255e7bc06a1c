// A shopping-cart API started through `npm run start`: it keeps every CartItem ever added,
// even after the cart is checked out.
'use strict';
const http = require('http');

class CartItem {
  constructor(sku, quantity) {
    this.sku = sku;
    this.quantity = quantity;
    this.addedAt = Date.now();
  }
}

const allItems = [];
let nextSku = 0;

const server = http.createServer((req, res) => {
  allItems.push(new CartItem(`sku-${nextSku++}`, 1)); // Bug: kept after checkout.
  res.setHeader('content-type', 'application/json');
  res.end('{"added":true}');
});

server.listen(0, '127.0.0.1', () => {
  console.log(`cart listening on ${server.address().port}`);
});
