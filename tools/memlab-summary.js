#!/usr/bin/env node
// memlab's equivalent of `hunter summary`, for benchmarks: memlab 2.x loads the snapshot with
// its full analysis (shortest paths, dominators, retained sizes), then totals count, shallow and
// retained size per node name.
//   node tools/memlab-summary.js FILE
'use strict';
const { getFullHeapFromFile } = require('@memlab/heap-analysis');

(async () => {
  const file = process.argv[2];
  if (!file) { console.error('usage: memlab-summary.js FILE'); process.exit(2); }
  const heap = await getFullHeapFromFile(file);
  const rows = new Map();
  heap.nodes.forEach((node) => {
    let row = rows.get(node.name);
    if (!row) rows.set(node.name, (row = { name: node.name, count: 0, self_bytes: 0, retained_bytes: 0 }));
    row.count += 1;
    row.self_bytes += node.self_size;
    row.retained_bytes += node.retainedSize;
  });
  const classes = [...rows.values()].sort((a, b) => b.retained_bytes - a.retained_bytes);
  process.stdout.write(JSON.stringify({ nodes: heap.nodes.length, classes: classes.slice(0, 25) }) + '\n');
})().catch((e) => { console.error(e); process.exit(1); });
