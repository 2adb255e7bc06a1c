// The parent talks to a helper spawned with piped stdio, one JSON line per command each way, so
// the helper's stderr (and its "Debugger listening" line) goes to the parent, not to hunter.
'use strict';
const { spawn } = require('child_process');
const path = require('path');
const readline = require('readline');

const helper = spawn(process.execPath, [path.join(__dirname, 'helper.js')], { stdio: 'pipe' });
helper.stderr.resume(); // the parent reads and drops the helper's stderr
const waiting = new Map();
let nextCommand = 0;

readline.createInterface({ input: helper.stdout }).on('line', (line) => {
  const reply = JSON.parse(line);
  const resolve = waiting.get(reply.id);
  if (resolve) {
    waiting.delete(reply.id);
    resolve(reply.ok);
  }
});

function send(text) {
  const id = nextCommand++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    helper.stdin.write(`${JSON.stringify({ id, text })}\n`);
  });
}

async function sendCommands(count) {
  const replies = await Promise.all(Array.from({ length: count }, (_, i) => send(`SET key${i} ${i}`)));
  return replies.filter(Boolean).length;
}

globalThis.sendCommands = sendCommands;
send('PING').then(() => console.log('parent ready, helper answered'));
