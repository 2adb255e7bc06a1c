// A command helper reading JSON lines on stdin; it keeps every parsed command in an undo log
// that is never trimmed.
'use strict';
const readline = require('readline');

class ParsedCommand {
  constructor(id, verb, args) {
    this.id = id;
    this.verb = verb;
    this.args = args;
  }
}

const undoLog = [];

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const { id, text } = JSON.parse(line);
  const [verb, ...args] = text.split(' ');
  undoLog.push(new ParsedCommand(id, verb, args));
  process.stdout.write(`${JSON.stringify({ id, ok: true })}\n`);
});
