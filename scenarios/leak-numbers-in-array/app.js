// A latency recorder that pushes every measurement into one array and never trims it. No new
// object appears per iteration: the numbers are small integers stored unboxed in the array's
// backing store, which V8 grows in steps. Only the array's length shows the leak.
'use strict';
const latencies = [];

globalThis.recordLatencies = function recordLatencies(count) {
  for (let i = 0; i < count; i++) latencies.push((i * 37) % 1000);
};

setInterval(() => {}, 60_000); // a service stays up
console.log('recorder ready');
