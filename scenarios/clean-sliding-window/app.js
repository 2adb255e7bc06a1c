// Latency statistics over a sliding window of the most recent 100 samples, kept in a fixed-size
// ring buffer.
'use strict';

class Sample {
  constructor(latencyMs, route) {
    this.latencyMs = latencyMs;
    this.route = route;
  }
}

const WINDOW = 100;
const window = new Array(WINDOW).fill(null);
let written = 0;

function record(latencyMs, route) {
  window[written % WINDOW] = new Sample(latencyMs, route);
  written++;
}

function p50() {
  const values = window.filter(Boolean).map((s) => s.latencyMs).sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)] || 0;
}

globalThis.latency = { record, p50 };
console.log('stats ready');
setInterval(() => {}, 1 << 30);
