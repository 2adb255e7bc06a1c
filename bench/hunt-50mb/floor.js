// The floor of a hunt: the same app, workload and schedule as `hunter run scenario.toml` with
// the defaults (1 warmup, then a baseline and 5 measured iterations), each boundary being two
// forced GCs and a heap snapshot written by V8 itself. Run: node --expose-gc floor.js OUTDIR
'use strict';
const v8 = require('v8');
const path = require('path');
require('./app.js');
const out = process.argv[2] || require('os').tmpdir();
const boundary = (k) => {
  gc();
  gc();
  v8.writeHeapSnapshot(path.join(out, `floor-${k}.heapsnapshot`));
};
globalThis.handle(2000); // warmup
boundary(0);
for (let k = 1; k <= 5; k++) {
  globalThis.handle(2000);
  boundary(k);
}
process.exit(0);
