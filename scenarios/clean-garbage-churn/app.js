// A report generator that allocates several megabytes of temporary objects, strings and buffers
// per call and keeps nothing but the final number.
'use strict';

class Row {
  constructor(i) {
    this.id = i;
    this.name = `row-${i}`;
    this.values = [i, i * 2, i * 3];
  }
}

function buildReport() {
  const rows = [];
  for (let i = 0; i < 20000; i++) rows.push(new Row(i));
  const csv = rows.map((r) => `${r.id},${r.name},${r.values.join(';')}`).join('\n');
  const blob = Buffer.from(csv);
  const parsed = JSON.parse(JSON.stringify(rows.slice(0, 5000)));
  return blob.length + parsed.length;
}

globalThis.buildReport = buildReport;
console.log('reports ready');
setInterval(() => {}, 1 << 30);
