// CommonJS workload: 150 samples per iteration (more than the window), then a percentile query.
'use strict';

let setupDone = false;

exports.setup = function setup() {
  setupDone = true;
};

exports.iteration = function iteration() {
  if (!setupDone) throw new Error('setup did not run before iteration');
  for (let i = 0; i < 150; i++) globalThis.latency.record(Math.random() * 100, '/search');
  return globalThis.latency.p50();
};
