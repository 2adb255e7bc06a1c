// One Node service with a ~15 MB heap that answers work requests. Run alone (`node service.js`,
// work through the global `work()`), or forked by tree.js (work arrives as IPC messages).
'use strict';
class Record {
  constructor(i) {
    this.key = `record-${i}`;
    this.body = `body of record ${i} `.repeat(4);
    this.score = i / 3;
  }
}
const table = [];
for (let i = 0; i < 40_000; i++) table.push(new Record(i));

function work(n) {
  let total = 0;
  for (let i = 0; i < n; i++) total += table[(i * 7919) % table.length].score;
  return total;
}
globalThis.work = work;

if (process.send) {
  process.on('message', ({ id, n }) => process.send({ id, total: work(n) }));
  process.send({ ready: true });
} else {
  setInterval(() => {}, 60_000); // a service stays up
  console.log('service ready');
}
