// CommonJS workload: 50 clients connect per iteration, and prices are published.
'use strict';

exports.iteration = function iteration() {
  const { connectClient, publish } = globalThis.pricing;
  for (let i = 0; i < 50; i++) connectClient();
  publish('ACME', Math.random());
};
