// A long-lived event bus; every "connection" subscribes to price updates and never unsubscribes.
'use strict';
const { EventEmitter } = require('events');

class Subscription {
  constructor(clientId, symbols) {
    this.clientId = clientId;
    this.symbols = symbols;
    this.lastPrice = 0;
  }
}

const bus = new EventEmitter();
bus.setMaxListeners(0);
let nextClient = 0;

function connectClient() {
  const subscription = new Subscription(nextClient++, ['ACME', 'INIT']);
  bus.on('price', function onPrice(symbol, price) {
    if (subscription.symbols.includes(symbol)) subscription.lastPrice = price;
  });
  // Bug: the client disconnects but bus.off('price', onPrice) is never called.
}

function publish(symbol, price) {
  bus.emit('price', symbol, price);
}

module.exports = { connectClient, publish, bus };
