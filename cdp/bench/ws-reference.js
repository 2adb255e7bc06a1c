// Cross-check for BENCHMARKS.md (CDP section): the same comparison as
// `cargo run --release --example bench_snapshot_stream`, with the `ws` npm package as the CDP
// client instead of the cdp crate, to tell the client's cost from Node's own.
//   npm install --prefix /tmp/ws-ref ws@8
//   NODE_PATH=/tmp/ws-ref/node_modules node cdp/bench/ws-reference.js [heap MB] [rounds]
'use strict';
const WebSocket = require('ws');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');

const mb = Number(process.argv[2]) || 200;
const rounds = Number(process.argv[3]) || 3;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ws-ref-'));
const target = spawn('node', ['--inspect=127.0.0.1:0', '-e', `
globalThis.keep = [];
while (process.memoryUsage().heapUsed < ${mb} * 1e6) {
  for (let i = 0; i < 10000; i++) {
    const n = keep.length;
    keep.push({ id: n, name: 'item-' + n, tags: [n & 7, n & 15] });
  }
}
setInterval(() => {}, 1 << 30);
globalThis.ready = true;`], { stdio: ['ignore', 'ignore', 'pipe'] });
process.on('exit', () => { target.kill(); fs.rmSync(dir, { recursive: true, force: true }); });

// CPU seconds of the target, all threads (utime + stime).
function targetCpu() {
  const fields = fs.readFileSync(`/proc/${target.pid}/stat`, 'utf8').split(')').pop().trim().split(/\s+/);
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

let started = false;
target.stderr.on('data', (data) => {
  const url = /ws:\/\/\S+/.exec(data.toString());
  if (url && !started) {
    started = true;
    run(url[0]).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
  }
});

async function run(url) {
  const ws = new WebSocket(url, { maxPayload: 1 << 30, perMessageDeflate: false });
  let nextId = 0;
  const pending = new Map();
  let onChunk = null;
  ws.on('message', (data) => {
    const message = JSON.parse(data);
    if (message.id) {
      pending.get(message.id)(message);
      pending.delete(message.id);
    } else if (message.method === 'HeapProfiler.addHeapSnapshotChunk' && onChunk) {
      onChunk(message.params.chunk);
    }
  });
  const send = (method, params) => new Promise((resolve) => {
    const id = ++nextId;
    pending.set(id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });
  await new Promise((resolve) => ws.on('open', resolve));
  for (;;) {
    const reply = await send('Runtime.evaluate', { expression: 'globalThis.ready === true', returnByValue: true });
    if (reply.result.result.value) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  const stream = async () => {
    const fd = fs.openSync(path.join(dir, 'streamed.heapsnapshot'), 'w');
    let bytes = 0;
    onChunk = (chunk) => { bytes += chunk.length; fs.writeSync(fd, chunk); };
    const cpu = targetCpu();
    const start = Date.now();
    await send('HeapProfiler.takeHeapSnapshot', {});
    fs.closeSync(fd);
    return { seconds: (Date.now() - start) / 1000, bytes, cpu: targetCpu() - cpu };
  };
  const write = async () => {
    const file = JSON.stringify(path.join(dir, 'written.heapsnapshot'));
    const cpu = targetCpu();
    const start = Date.now();
    await send('Runtime.evaluate', { expression: `require('v8').writeHeapSnapshot(${file})`, includeCommandLineAPI: true });
    return { seconds: (Date.now() - start) / 1000, cpu: targetCpu() - cpu };
  };

  await stream(); // untimed warm-up, as in the Rust benchmark
  let streamTotal = 0;
  let writeTotal = 0;
  for (let round = 0; round < rounds; round++) {
    const s = await stream();
    const w = await write();
    streamTotal += s.seconds;
    writeTotal += w.seconds;
    console.log(`round ${round}: stream through ws ${s.seconds.toFixed(2)} s  ${(s.bytes / 1e6).toFixed(1)} MB  node CPU ${s.cpu.toFixed(2)} s | ` +
      `v8.writeHeapSnapshot ${w.seconds.toFixed(2)} s  node CPU ${w.cpu.toFixed(2)} s`);
  }
  console.log(`ratio stream / write (total wall time over ${rounds} rounds): ${(streamTotal / writeTotal).toFixed(3)}`);
}
