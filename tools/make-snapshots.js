#!/usr/bin/env node
// Writes real V8 heap snapshots for hunter's tests and benchmarks.
//
//   node tools/make-snapshots.js mixed DIR        DIR/mixed.heapsnapshot: every kind of object
//   node tools/make-snapshots.js leak DIR         DIR/leak-1..3.heapsnapshot: one process, a
//                                                 global Map of Session objects growing by 100
//   node tools/make-snapshots.js big FILE MB      a snapshot of about MB megabytes (benchmarks)
//   node tools/make-snapshots.js traced DIR       DIR/traced.heapsnapshot: allocation tracking on
'use strict';
const v8 = require('v8');
const path = require('path');
const fs = require('fs');

const [mode, out, arg] = process.argv.slice(2);
if (!mode || !out) {
  console.error('usage: make-snapshots.js mixed DIR | leak DIR | big FILE MB | traced DIR');
  process.exit(2);
}

function write(file) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  v8.writeHeapSnapshot(tmp);
  fs.renameSync(tmp, file);
}

// Keeps everything below reachable from the global object.
const keep = (globalThis.__kept = []);

function mixed() {
  class Session {
    constructor(id) { this.id = id; this.user = `user-${id}`; this.started = Date.now(); }
  }
  class Point { constructor(x, y) { this.x = x; this.y = y; } }
  // A second class named Point from another place: DevTools keeps them as two rows.
  const OtherPoint = (() => class Point { constructor() { this.z = 1; } })();
  for (let i = 0; i < 50; i++) keep.push(new Session(i));
  for (let i = 0; i < 30; i++) keep.push(new Point(i, i * 2));
  for (let i = 0; i < 7; i++) keep.push(new OtherPoint());

  const map = new Map();
  const set = new Set();
  for (let i = 0; i < 200; i++) { map.set(`k${i}`, { value: i }); set.add(i * 3); }
  keep.push(map, set);

  // Closures with captured context.
  for (let i = 0; i < 20; i++) {
    const captured = { n: i };
    keep.push(function handler() { return captured.n; });
    keep.push(() => i);
  }

  // All string kinds: internalized, flat, concatenated, sliced, two-byte, non-ASCII.
  const long = 'abcdefghijklmnopqrstuvwxyz'.repeat(40);
  for (let i = 0; i < 20; i++) {
    keep.push(long.substring(i, i + 100));               // sliced
    keep.push('prefix-' + i + '-' + long.slice(0, 30));  // concatenated
    keep.push(`héllo wörld ✓ ${i}`);                     // two-byte
    keep.push(String(i).padStart(20, 'x'));              // flat
  }
  keep.push('emoji 😀 and "quotes", {braces}');

  // WeakMaps (key → value ephemerons), WeakSets and WeakRefs.
  const wm = new WeakMap();
  const ws = new WeakSet();
  for (let i = 0; i < 40; i++) {
    const key = { key: i };
    wm.set(key, { payload: 'v'.repeat(i + 1) });
    ws.add(key);
    if (i % 2 === 0) keep.push(key);
    keep.push(new WeakRef(key));
  }
  keep.push(wm, ws);

  // Typed arrays and buffers.
  for (let i = 0; i < 10; i++) {
    keep.push(new Uint8Array(1024 * (i + 1)));
    keep.push(new Float64Array(64));
  }
  keep.push(new ArrayBuffer(65536), new SharedArrayBuffer(4096));

  // Plain objects with repeated shapes (DevTools names them `{a, b}`), odd property names,
  // dictionary-mode objects and arrays.
  for (let i = 0; i < 60; i++) keep.push({ alpha: 'a' + i, beta: String(i), gamma: [i] });
  for (let i = 0; i < 30; i++) keep.push({ 'with,comma': i, "quote'd": i, 'ünïcode': i });
  const dict = {};
  for (let i = 0; i < 2000; i++) dict['p' + i] = i;
  for (let i = 0; i < 1000; i++) delete dict['p' + i * 2];
  keep.push(dict);
  keep.push(Array.from({ length: 5000 }, (_, i) => i * 1.5));
  keep.push(Array.from({ length: 100 }, (_, i) => ({ i })));
  keep.push(Symbol('marker'), 12345678901234567890n, /re+gex/g, new Date(), new Error('kept'));
  keep.push(Promise.resolve(1), new Proxy({}, {}), Object.create(null));
  write(path.join(out, 'mixed.heapsnapshot'));
}

function leak() {
  class Session {
    constructor(id) { this.id = id; this.payload = 'p'.repeat(64) + id; }
  }
  globalThis.cache = new Map();
  let next = 0;
  for (let round = 1; round <= 3; round++) {
    for (let i = 0; i < 100; i++) { const s = new Session(next++); globalThis.cache.set(s.id, s); }
    write(path.join(out, `leak-${round}.heapsnapshot`));
  }
}

function big() {
  const targetMb = Number(arg);
  if (!(targetMb > 0)) { console.error('big: MB must be a positive number'); process.exit(2); }
  // About 340 bytes of snapshot per Record (with its strings and arrays); measured, not exact.
  // Large sizes need a bigger heap: node --max-old-space-size=8192 tools/make-snapshots.js big …
  class Record { constructor(i) { this.id = i; this.name = 'r' + i; this.tags = [i, i + 1]; this.parent = null; } }
  const records = (globalThis.records = []);
  const count = Math.round(targetMb * 1000 * 1000 / 340);
  for (let i = 0; i < count; i++) {
    const r = new Record(i);
    if (i > 0) r.parent = records[(i * 7919) % i];
    records.push(r);
  }
  write(out);
}


// Allocation tracking on (as a hunt may turn it on): the snapshot carries trace_function_infos,
// trace_tree and a trace_node_id per node. Taken through the in-process inspector.
function traced() {
  const inspector = require('inspector');
  const session = new inspector.Session();
  session.connect();
  const post = (method, params) => new Promise((resolve, reject) =>
    session.post(method, params || {}, (err, result) => (err ? reject(err) : resolve(result))));
  class Session { constructor(id) { this.id = id; this.tags = [id]; } }
  function makeSession(id) {
    return new Session(id);
  }
  (async () => {
    await post('HeapProfiler.enable');
    await post('HeapProfiler.startTrackingHeapObjects', { trackAllocations: true });
    globalThis.sessions = [];
    for (let i = 0; i < 50; i++) globalThis.sessions.push(makeSession(i));
    const chunks = [];
    session.on('HeapProfiler.addHeapSnapshotChunk', (m) => chunks.push(m.params.chunk));
    await post('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    session.disconnect();
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'traced.heapsnapshot'), chunks.join(''));
  })().catch((e) => { console.error(e); process.exit(1); });
}

const modes = { mixed, leak, big, traced };
if (!modes[mode]) {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
modes[mode]();
