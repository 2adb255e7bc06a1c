#!/usr/bin/env node
// Compares `hunter summary --json` with tools/devtools-summary.mjs output: the same rows (name,
// count, self_bytes, retained_bytes), ignoring order. Exit 1 on any difference.
//   node tools/compare-summaries.mjs HUNTER.json DEVTOOLS.json
import { readFileSync } from 'node:fs';

const [ours, theirs] = process.argv.slice(2).map((f) => JSON.parse(readFileSync(f, 'utf8')));
const rows = (s) => s.classes.map((c) => JSON.stringify([c.name, c.count, c.self_bytes, c.retained_bytes])).sort();
const [a, b] = [rows(ours), rows(theirs)];
const missing = b.filter((r) => !a.includes(r));
const extra = a.filter((r) => !b.includes(r));
if (ours.nodes !== theirs.nodes || ours.edges !== theirs.edges || missing.length || extra.length) {
  console.log(`DIFFERENT: nodes ${ours.nodes}/${theirs.nodes} edges ${ours.edges}/${theirs.edges}`);
  for (const r of missing.slice(0, 10)) console.log('  DevTools only:', r);
  for (const r of extra.slice(0, 10)) console.log('  hunter only:  ', r);
  process.exit(1);
}
console.log(`identical: ${a.length} classes, ${ours.nodes} nodes, ${ours.edges} edges`);
