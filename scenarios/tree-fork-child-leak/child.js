// The forked worker process: it answers every job, and keeps a JobRecord of each one forever.
'use strict';

class JobRecord {
  constructor(id, input) {
    this.id = id;
    this.input = input;
    this.finishedAt = Date.now();
  }
}

const history = [];

process.on('message', (msg) => {
  history.push(new JobRecord(msg.id, msg.input)); // Bug: the history is never trimmed.
  process.send({ id: msg.id, result: msg.input.length });
});
