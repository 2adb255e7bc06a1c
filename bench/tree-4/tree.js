// The same service four times over as one process tree: this process plus three forked
// copies. `workAll(n)` gives each the same work and waits for all of them.
'use strict';
const { fork } = require('child_process');
const path = require('path');
require('./service.js');

const children = [0, 1, 2].map(() => fork(path.join(__dirname, 'service.js')));
let nextId = 0;
const pending = new Map();
let ready = 0;
for (const child of children) {
  child.on('message', (m) => {
    if (m.ready) {
      if (++ready === children.length) console.log('tree ready');
      return;
    }
    pending.get(m.id)?.();
    pending.delete(m.id);
  });
}
globalThis.workAll = (n) =>
  Promise.all([
    Promise.resolve(globalThis.work(n)),
    ...children.map(
      (child) =>
        new Promise((resolve) => {
          const id = nextId++;
          pending.set(id, resolve);
          child.send({ id, n });
        }),
    ),
  ]);
