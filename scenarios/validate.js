#!/usr/bin/env node
// Checks the corpus by hand, without hunter: runs each scenario's app the way hunter would
// (same command, same ready condition, same workload), forces GC after every measured iteration,
// counts live heap objects by name with a real heap snapshot, and checks that each leaky
// scenario's culprit grows in every iteration and that nothing grows in every iteration in a
// clean one. It exists so the expected verdicts in `expected.toml` are facts about Node, not
// about hunter.
//
//   node scenarios/validate.js                 # every scenario
//   node scenarios/validate.js scenarios/leak-array-push [...]
//
// The same file is also the in-process driver: it is preloaded into every Node process of the
// target (through NODE_OPTIONS=--require, which also reaches child processes and worker threads)
// and answers "measure" requests written as files into a private directory. The main process
// additionally runs eval/module workloads sent over its IPC channel.
'use strict';

const fs = require('fs');
const path = require('path');

if (process.env.HUNTER_VALIDATE_DIR && require.main !== module) {
  keepDriverInChildEnvironments(process.env.HUNTER_VALIDATE_DIR);
  runDriver(process.env.HUNTER_VALIDATE_DIR);
} else if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(2);
  });
}

// ---------------------------------------------------------------------------------------------
// The driver, inside the target's processes.

// As hunter's agent does: a child spawned with an environment of its own gets the driver's
// variables back, so that it is measured too.
function keepDriverInChildEnvironments(dir) {
  const { ChildProcess } = require('child_process');
  const original = ChildProcess.prototype.spawn;
  const nodeOptions = `--require ${__filename} --expose-gc`;
  ChildProcess.prototype.spawn = function spawn(options) {
    const pairs = options && options.envPairs;
    if (Array.isArray(pairs) && !pairs.some((p) => p.startsWith('HUNTER_VALIDATE_DIR='))) {
      pairs.push(`HUNTER_VALIDATE_DIR=${dir}`);
      const at = pairs.findIndex((p) => p.startsWith('NODE_OPTIONS='));
      if (at < 0) pairs.push(`NODE_OPTIONS=${nodeOptions}`);
      else pairs[at] = `${pairs[at]} ${nodeOptions}`;
    }
    return original.apply(this, arguments);
  };
}

function runDriver(dir) {
  const v8 = require('v8');
  const { threadId, isMainThread } = require('worker_threads');
  const tag = `${process.pid}-${threadId}`;
  let served = 0;
  let busy = false;

  async function settle() {
    for (let i = 0; i < 4; i++) {
      globalThis.gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async function countObjects() {
    await settle();
    const heapUsed = process.memoryUsage().heapUsed;
    const chunks = [];
    for await (const chunk of v8.getHeapSnapshot()) chunks.push(chunk);
    const snapshot = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const meta = snapshot.snapshot.meta;
    const fieldCount = meta.node_fields.length;
    const typeNames = meta.node_types[0];
    const typeAt = meta.node_fields.indexOf('type');
    const nameAt = meta.node_fields.indexOf('name');
    const counts = {};
    const nodes = snapshot.nodes;
    for (let i = 0; i < nodes.length; i += fieldCount) {
      const type = typeNames[nodes[i + typeAt]];
      let name;
      if (type === 'object' || type === 'closure') name = snapshot.strings[nodes[i + nameAt]];
      else if (type === 'array') name = '(array)';
      else if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '(string)';
      else continue;
      if (name.startsWith('system /')) continue;
      counts[name] = (counts[name] || 0) + 1;
    }
    return { heapUsed, counts };
  }

  // File requests: `measure-<seq>` appears; every process answers once with `<seq>-<tag>.json`.
  const timer = setInterval(async () => {
    if (busy) return;
    const next = served + 1;
    if (!fs.existsSync(path.join(dir, `measure-${next}`))) return;
    busy = true;
    try {
      const result = await countObjects();
      result.argv = process.argv;
      result.isMainThread = isMainThread;
      result.threadId = threadId;
      result.pid = process.pid;
      const out = path.join(dir, `${next}-${tag}.json`);
      fs.writeFileSync(out + '.tmp', JSON.stringify(result));
      fs.renameSync(out + '.tmp', out);
      served = next;
    } finally {
      busy = false;
    }
  }, 50);
  timer.unref();

  // Workloads that run inside the main process, sent by the validator over IPC.
  // Only the process the validator started gets the marker; it removes it so that the target's
  // own children (which may have IPC channels of their own) do not take the workload.
  const isTargetMain = isMainThread && process.send && process.env.HUNTER_VALIDATE_IPC === '1';
  if (isMainThread) delete process.env.HUNTER_VALIDATE_IPC;
  if (isTargetMain) {
    const { createRequire } = require('module');
    const { pathToFileURL } = require('url');
    const vm = require('vm');
    const modules = new Map();
    process.channel.unref();
    process.on('message', async (msg) => {
      if (!msg || msg.validate !== true) return;
      try {
        if (msg.op === 'eval') {
          globalThis.require = createRequire(path.join(process.cwd(), '[eval]'));
          await vm.runInThisContext(`(async () => {\n${msg.code}\n})()`);
        } else if (msg.op === 'module') {
          let mod = modules.get(msg.file);
          if (!mod) {
            mod = await import(pathToFileURL(msg.file).href);
            modules.set(msg.file, mod);
          }
          const fn = mod[msg.fn] || (mod.default && mod.default[msg.fn]);
          if (typeof fn === 'function') await fn();
          else if (msg.fn === 'iteration') throw new Error(`${msg.file} exports no iteration`);
        }
        process.send({ validate: true, id: msg.id, ok: true });
      } catch (err) {
        process.send({ validate: true, id: msg.id, ok: false, error: String(err && err.stack || err) });
      }
    });
    process.send({ validate: true, hello: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The validator.

async function main() {
  const args = process.argv.slice(2);
  const root = __dirname;
  const dirs = args.length
    ? args.map((a) => path.resolve(a))
    : fs.readdirSync(root)
      .map((d) => path.join(root, d))
      .filter((d) => fs.existsSync(path.join(d, 'scenario.toml')))
      .sort();
  let failed = 0;
  for (const dir of dirs) {
    const name = path.basename(dir);
    try {
      const result = await validateScenario(dir);
      console.log(`${result.ok ? 'OK  ' : 'FAIL'} ${name}: ${result.summary}`);
      for (const line of result.details) console.log(`       ${line}`);
      if (!result.ok) failed++;
    } catch (err) {
      failed++;
      console.log(`FAIL ${name}: ${err && err.stack || err}`);
    }
  }
  console.log(`${dirs.length - failed}/${dirs.length} scenarios behave as expected`);
  process.exit(failed ? 1 : 0);
}

async function validateScenario(dir) {
  const scenario = parseToml(fs.readFileSync(path.join(dir, 'scenario.toml'), 'utf8'));
  const expected = parseToml(fs.readFileSync(path.join(dir, 'expected.toml'), 'utf8'));
  const hunt = scenario.hunt || {};
  const iterations = hunt.iterations ?? 5;
  const warmup = hunt.warmup ?? 1;
  const target = scenario.target;
  const cwd = path.resolve(dir, target.cwd || '.');
  const work = fs.mkdtempSync(path.join(require('os').tmpdir(), 'hunter-validate-'));
  const env = {
    ...process.env,
    ...(target.env || {}),
    HUNTER_VALIDATE_DIR: work,
    HUNTER_VALIDATE_IPC: '1',
    NODE_OPTIONS: `${process.env.NODE_OPTIONS || ''} --require ${__filename} --expose-gc`.trim(),
  };
  const { spawn } = require('child_process');
  const [command, ...argv] = target.command;
  const child = spawn(command === 'node' ? process.execPath : command, argv, {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    detached: true,
  });
  const output = [];
  const lineWaiters = [];
  const onData = (data) => {
    for (const line of data.toString('utf8').split('\n')) {
      if (!line) continue;
      output.push(line);
      for (const w of lineWaiters) w(line);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let exited = null;
  const pending = new Map();
  child.on('exit', (code, signal) => {
    exited = { code, signal };
    for (const p of pending.values()) p.reject(new Error(`target exited (${code ?? signal}) during the workload`));
    pending.clear();
  });
  let nextId = 1;
  let hello = false;
  child.on('message', (msg) => {
    if (!msg || msg.validate !== true) return;
    if (msg.hello) { hello = true; return; }
    const p = pending.get(msg.id);
    if (p) { pending.delete(msg.id); msg.ok ? p.resolve() : p.reject(new Error(msg.error)); }
  });
  const send = (msg) => new Promise((resolve, reject) => {
    if (exited) { reject(new Error(`target exited (${exited.code ?? exited.signal})`)); return; }
    const id = nextId++;
    pending.set(id, { resolve, reject });
    child.send({ validate: true, id, ...msg });
  });

  try {
    const placeholders = {};
    const ready = target.ready || {};
    if (ready.log) {
      const re = new RegExp(ready.log.replace(/\(\?P</g, '(?<'));
      await new Promise((resolve, reject) => {
        const check = (line) => {
          const m = re.exec(line);
          if (m) { Object.assign(placeholders, m.groups || {}); resolve(); return true; }
          return false;
        };
        if (output.some(check)) return;
        lineWaiters.push(check);
        setTimeout(() => reject(new Error(`ready log never matched; output:\n${output.join('\n')}`)), 15000);
      });
    } else if (ready.delay_ms) {
      await sleep(ready.delay_ms);
    }
    const workload = scenario.workload;
    const runIteration = await workloadRunner(workload, dir, placeholders, send, () => hello);
    if (workload.module) await runIteration('setup');
    for (let i = 0; i < warmup; i++) await runIteration('iteration');
    const samples = [await measure(work, 0, () => exited, 0)];
    for (let i = 1; i <= iterations; i++) {
      await runIteration('iteration');
      samples.push(await measure(work, i, () => exited, samples[i - 1].length));
    }
    return judge(expected, samples, child.pid);
  } finally {
    try { process.kill(-child.pid, 'SIGKILL'); } catch (_) { /* already gone */ }
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function workloadRunner(workload, dir, placeholders, send, helloSeen) {
  const expand = (s) => s.replace(/\{(\w+)\}/g, (all, k) => (k in placeholders ? placeholders[k] : all));
  if (workload.eval !== undefined || workload.module !== undefined) {
    for (let i = 0; i < 200 && !helloSeen(); i++) await sleep(50);
    if (!helloSeen()) throw new Error('the main process never loaded the driver');
  }
  if (workload.eval !== undefined) {
    return async (fn) => { if (fn === 'iteration') await send({ op: 'eval', code: workload.eval }); };
  }
  if (workload.module !== undefined) {
    const file = path.resolve(dir, workload.module);
    return async (fn) => send({ op: 'module', file, fn });
  }
  if (workload.http !== undefined) {
    const http = require('http');
    const agent = new http.Agent({ keepAlive: true });
    return async (fn) => {
      if (fn !== 'iteration') return;
      for (const req of workload.http) {
        for (let t = 0; t < (req.times ?? 1); t++) {
          await new Promise((resolve, reject) => {
            const r = http.request(expand(req.url), { method: req.method || 'GET', headers: req.headers || {}, agent }, (res) => {
              res.resume();
              res.on('end', () => (res.statusCode >= 200 && res.statusCode < 300 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
            });
            r.on('error', reject);
            if (req.body) r.write(req.body);
            r.end();
          });
        }
      }
    };
  }
  if (workload.exec !== undefined) {
    const { execFileSync } = require('child_process');
    return async (fn) => {
      if (fn !== 'iteration') return;
      const [cmd, ...args] = workload.exec.map(expand);
      execFileSync(cmd === 'node' ? process.execPath : cmd, args, { cwd: dir, stdio: 'ignore' });
    };
  }
  throw new Error('no workload');
}

// Asks every driver to measure and collects the answers: waits for the first, then gives the
// rest of the tree a moment (children and workers answer on their own timers).
async function measure(work, seq, exited, expectedCount) {
  fs.writeFileSync(path.join(work, `measure-${seq + 1}`), '');
  const deadline = Date.now() + 30000;
  let firstAt = null;
  for (;;) {
    const files = fs.readdirSync(work).filter((f) => f.startsWith(`${seq + 1}-`) && f.endsWith('.json'));
    if (files.length && firstAt === null) firstAt = Date.now();
    const waited = firstAt === null ? 0 : Date.now() - firstAt;
    if (waited > 1500 || (expectedCount && files.length >= expectedCount && waited > 100)) {
      return files.map((f) => JSON.parse(fs.readFileSync(path.join(work, f), 'utf8')));
    }
    if (exited()) throw new Error(`target exited: ${JSON.stringify(exited())}`);
    if (Date.now() > deadline) throw new Error('no process answered a measure request');
    await sleep(50);
  }
}

function roleOf(proc, mainPid) {
  if (!proc.isMainThread) return 'worker';
  return proc.pid === mainPid ? 'main' : 'child';
}

// Strictly growing in every step from the post-warmup baseline through the last iteration.
function growsEveryStep(series) {
  for (let i = 1; i < series.length; i++) if (!(series[i] > series[i - 1])) return false;
  return true;
}

function judge(expected, samples, mainPid) {
  // Processes are identified by pid+thread; the main one is the process the validator started.
  const byKey = new Map();
  samples.forEach((sample, i) => {
    for (const proc of sample) {
      const key = `${proc.pid}-${proc.threadId}`;
      if (!byKey.has(key)) byKey.set(key, { proc, series: [] });
      byKey.get(key).series[i] = proc;
    }
  });
  const processes = [...byKey.values()]
    .filter(({ series }) => series.length === samples.length && series.every(Boolean))
    .map(({ proc, series }) => {
      const role = roleOf(proc, mainPid);
      const names = new Set(series.flatMap((s) => Object.keys(s.counts)));
      const growing = [];
      for (const name of names) {
        const counts = series.map((s) => s.counts[name] || 0);
        if (growsEveryStep(counts)) growing.push({ name, counts });
      }
      return { role, command: proc.argv.join(' '), growing, heap: series.map((s) => s.heapUsed) };
    });
  const details = processes.map((p) => {
    const grow = p.growing.map((g) => `${g.name} ${g.counts.join('→')}`).join('; ') || 'nothing grows in every iteration';
    const kb = p.heap.map((h) => Math.round(h / 1024)).join('→');
    return `${p.role} ${p.command.slice(0, 60)}: heapUsed KiB ${kb}; ${grow}`;
  });
  const problems = [];
  const matches = (p, spec) => p.role === spec.process && (!spec.command || p.command.includes(spec.command));
  for (const culprit of expected.culprit || []) {
    const hits = processes.filter((p) => matches(p, culprit) && p.growing.some((g) => g.name === culprit.name));
    if (culprit.per_iteration !== undefined) {
      for (const p of hits) {
        const { counts } = p.growing.find((g) => g.name === culprit.name);
        const steps = counts.slice(1).map((c, i) => c - counts[i]);
        if (steps.some((d) => d !== culprit.per_iteration)) {
          problems.push(`culprit ${culprit.name} grows by ${steps.join(',')}, expected exactly ${culprit.per_iteration} per iteration`);
        }
      }
    }
    const wanted = culprit.min_processes ?? 1;
    if (hits.length < wanted) {
      problems.push(`culprit ${culprit.name} grows in every iteration on ${hits.length} ${culprit.process} process(es), expected ${wanted}`);
    }
  }
  const cleanSpecs = expected.verdict === 'clean' ? [{ process: 'main' }, { process: 'child' }, { process: 'worker' }] : (expected.clean || []);
  for (const spec of cleanSpecs) {
    for (const p of processes.filter((q) => matches(q, spec))) {
      if (p.growing.length) problems.push(`${p.role} should be clean but grows: ${p.growing.map((g) => g.name).join(', ')}`);
    }
  }
  return {
    ok: problems.length === 0,
    summary: problems.length ? problems.join('; ') : `${expected.verdict} as expected`,
    details,
  };
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// A TOML reader for the subset the corpus uses: tables, arrays of tables, basic and literal
// strings, integers, floats, booleans, arrays and inline tables. Plain Node has no TOML parser
// and the corpus must not need npm packages.
function parseToml(text) {
  const root = {};
  let current = root;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    let line = stripComment(lines[n]).trim();
    if (!line) continue;
    let m;
    if ((m = /^\[\[\s*([\w.-]+)\s*\]\]$/.exec(line))) {
      const list = (root[m[1]] = root[m[1]] || []);
      current = {};
      list.push(current);
      continue;
    }
    if ((m = /^\[\s*([\w.-]+)\s*\]$/.exec(line))) {
      current = root[m[1]] = root[m[1]] || {};
      continue;
    }
    m = /^([\w-]+)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new Error(`line ${n + 1}: cannot read ${line}`);
    let rest = m[2];
    while (!balanced(rest) && n + 1 < lines.length) rest += ' ' + stripComment(lines[++n]).trim();
    const reader = { s: rest, i: 0 };
    current[m[1]] = readValue(reader);
  }
  return root;
}

function stripComment(line) {
  let quote = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') return line.slice(0, i);
  }
  return line;
}

function balanced(s) {
  let depth = 0;
  let quote = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
  }
  return depth === 0;
}

function readValue(r) {
  skipSpace(r);
  const c = r.s[r.i];
  if (c === '"') {
    let out = '';
    r.i++;
    while (r.s[r.i] !== '"') {
      if (r.s[r.i] === '\\') {
        const e = r.s[++r.i];
        out += { n: '\n', t: '\t', '"': '"', '\\': '\\' }[e] ?? e;
      } else out += r.s[r.i];
      r.i++;
    }
    r.i++;
    return out;
  }
  if (c === "'") {
    const end = r.s.indexOf("'", r.i + 1);
    const out = r.s.slice(r.i + 1, end);
    r.i = end + 1;
    return out;
  }
  if (c === '[') {
    r.i++;
    const out = [];
    for (;;) {
      skipSpace(r);
      if (r.s[r.i] === ']') { r.i++; return out; }
      out.push(readValue(r));
      skipSpace(r);
      if (r.s[r.i] === ',') r.i++;
    }
  }
  if (c === '{') {
    r.i++;
    const out = {};
    for (;;) {
      skipSpace(r);
      if (r.s[r.i] === '}') { r.i++; return out; }
      const m = /^([\w-]+|"[^"]*")\s*=/.exec(r.s.slice(r.i));
      r.i += m[0].length;
      out[m[1].replace(/^"|"$/g, '')] = readValue(r);
      skipSpace(r);
      if (r.s[r.i] === ',') r.i++;
    }
  }
  const m = /^(true|false|[-+]?[0-9_]+(\.[0-9_]+)?)/.exec(r.s.slice(r.i));
  if (!m) throw new Error(`cannot read value at ${r.s.slice(r.i)}`);
  r.i += m[0].length;
  if (m[1] === 'true') return true;
  if (m[1] === 'false') return false;
  return Number(m[1].replace(/_/g, ''));
}

function skipSpace(r) {
  while (r.i < r.s.length && /\s/.test(r.s[r.i])) r.i++;
}

module.exports = { parseToml };
