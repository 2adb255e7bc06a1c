#!/usr/bin/env node
// Prints Chrome DevTools' own Summary view of a snapshot as JSON, using DevTools' heap snapshot
// worker code (npm heap-snapshot-toolkit): {nodes, edges, total, classes: [{key, name, count,
// self_bytes, retained_bytes}]}. The reference hunter's summary is tested against.
//   node tools/devtools-summary.mjs FILE
import { createReadStream } from 'node:fs';
import { parse } from 'heap-snapshot-toolkit';

const file = process.argv[2];
if (!file) { console.error('usage: devtools-summary.mjs FILE'); process.exit(2); }
const snapshot = await parse(createReadStream(file, 'utf-8'));
const aggregates = snapshot.aggregatesWithFilter({});
const classes = Object.entries(aggregates).map(([key, a]) => ({
  key, name: a.name, count: a.count, self_bytes: a.self, retained_bytes: a.maxRet,
}));
classes.sort((x, y) => y.retained_bytes - x.retained_bytes || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
process.stdout.write(JSON.stringify({
  nodes: snapshot.nodeCount, edges: snapshot.containmentEdges.length / snapshot.edgeFieldsCount,
  total: snapshot.totalSize, classes,
}) + '\n');
