// A service with a ~50 MB heap: a catalogue of products held for its whole life, and a
// request handler that builds temporary objects. Clean: nothing grows per iteration.
'use strict';
class Product {
  constructor(i) {
    this.sku = `SKU-${i}`;
    this.name = `Product number ${i} with a descriptive name`;
    this.price = i * 1.25;
    this.tags = ['catalogue', `group-${i % 100}`];
  }
}
const catalogue = new Map();
for (let i = 0; i < 140_000; i++) catalogue.set(i, new Product(i));

globalThis.handle = function handle(requests) {
  let total = 0;
  for (let r = 0; r < requests; r++) {
    const picks = [];
    for (let k = 0; k < 50; k++) picks.push(catalogue.get((r * 7919 + k * 104729) % catalogue.size));
    total += picks.reduce((sum, p) => sum + p.price, 0);
  }
  return total;
};
setInterval(() => {}, 60_000); // a service stays up
console.log('catalogue ready', process.memoryUsage().heapUsed);
