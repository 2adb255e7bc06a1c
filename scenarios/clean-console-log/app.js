// A handler that logs what it does with console.log, including objects. leakage raises a false
// alarm here; without a debugger attached, console.log keeps nothing.
'use strict';

class Order {
  constructor(id) {
    this.id = id;
    this.items = ['book', 'pen'];
  }
}

let nextOrder = 0;

function placeOrders(count) {
  for (let i = 0; i < count; i++) {
    const order = new Order(nextOrder++);
    console.log('placed order', order.id, order);
  }
}

globalThis.placeOrders = placeOrders;
console.log('orders ready');
setInterval(() => {}, 1 << 30);
