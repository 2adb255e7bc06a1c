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
})();
