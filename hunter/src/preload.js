// hunter's agent, preloaded (`--require`) into every Node process of a hunted process tree
// through NODE_OPTIONS. It tells hunter "I am pid P, child of Q, my inspector is at ws://…" over
// the Unix socket named by HUNTER_AGENT_SOCKET and keeps that connection open: hunter sees EOF
// when the process exits, and the process kills itself when hunter goes away. It never throws
// into the user's program and never prints.
'use strict';
(function hunterAgent() {
  try {
    const socketPath = process.env.HUNTER_AGENT_SOCKET;
    if (!socketPath) return;
    keepHunterInChildEnvironments(socketPath);
    // Worker threads run preloads too; they are hunted through their parent's inspector.
    if (!require('worker_threads').isMainThread) return;
    const inspector = require('inspector');
    if (!inspector.url()) {
      // A fixed --inspect port taken by a sibling leaves this process without an inspector;
      // open one on a free loopback port instead.
      try { inspector.open(0, '127.0.0.1', false); } catch (_) { /* reported as url: null */ }
    }
    try {
      // cluster gives each worker the primary's port + 1, + 2…, which may be taken; port 0
      // (with the host inherited from NODE_OPTIONS) gives each worker a free port.
      const cluster = require('cluster');
      if (cluster.isPrimary && cluster.settings && !('inspectPort' in cluster.settings)) {
        cluster.settings.inspectPort = 0;
      }
    } catch (_) { /* cluster unavailable: nothing to fix */ }
    const message = JSON.stringify({
      pid: process.pid,
      ppid: process.ppid,
      url: inspector.url() || null,
      argv: process.argv,
      execArgv: process.execArgv,
      title: process.title,
    }) + '\n';
    const socket = require('net').connect(socketPath);
    socket.on('error', () => {});
    // hunter never closes this connection while it hunts: a close means hunter is gone (even
    // SIGKILLed), and no process of the tree may outlive it — PR_SET_PDEATHSIG only covers the
    // process hunter spawned, not its descendants.
    socket.on('close', () => {
      try { process.kill(process.pid, 'SIGKILL'); } catch (_) { /* nothing better to do */ }
    });
    socket.unref();
    socket.setNoDelay && socket.setNoDelay(true);
    socket.write(message);
    // Never read: hunter sends nothing. The open connection is the "still alive" signal.
  } catch (_) {
    // The agent must never change the behaviour of the program it is loaded into.
  }

  // A child started with an `env` of its own (`spawn(cmd, args, { env: { PATH } })`) would not
  // inherit NODE_OPTIONS, so it would run without an inspector and without this agent, and
  // hunter would never see it. Every asynchronous spawn (spawn, fork, exec, execFile, cluster)
  // ends in ChildProcess.prototype.spawn with the environment as `envPairs`; put hunter's two
  // variables back there. Synchronous spawns block the parent until the child exits, so there
  // is nothing to hunt in them.
  function keepHunterInChildEnvironments(socketPath) {
    const { ChildProcess } = require('child_process');
    const original = ChildProcess.prototype.spawn;
    if (typeof original !== 'function' || original.hunterAgent) return;
    // Only hunter's flags: the user's own NODE_OPTIONS did not reach this child before either.
    const agentFlags = `--inspect=127.0.0.1:0 --require ${quoteOption(__filename)}`;
    function spawn(options) {
      try {
        const pairs = options && options.envPairs;
        if (Array.isArray(pairs)) {
          const at = (name) => pairs.findIndex((p) => typeof p === 'string' && p.startsWith(`${name}=`));
          if (at('HUNTER_AGENT_SOCKET') < 0) pairs.push(`HUNTER_AGENT_SOCKET=${socketPath}`);
          const nodeOptions = at('NODE_OPTIONS');
          if (nodeOptions < 0) {
            pairs.push(`NODE_OPTIONS=${agentFlags}`);
          } else if (!pairs[nodeOptions].includes(__filename)) {
            pairs[nodeOptions] = `${pairs[nodeOptions]} ${agentFlags}`;
          }
        }
      } catch (_) { /* spawn exactly as asked */ }
      return original.apply(this, arguments);
    }
    spawn.hunterAgent = true;
    ChildProcess.prototype.spawn = spawn;
  }

  // NODE_OPTIONS quoting: double quotes, with backslash escapes inside.
  function quoteOption(word) {
    return /[\s"\\]/.test(word) ? `"${word.replace(/["\\]/g, '\\$&')}"` : word;
  }
})();
