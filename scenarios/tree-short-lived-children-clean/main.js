// Converts documents by starting a short-lived Node helper per document and waiting for it to
// exit. Nothing about a finished conversion is kept.
'use strict';
const { execFile } = require('child_process');
const path = require('path');

class Conversion {
  constructor(name) {
    this.name = name;
    this.startedAt = Date.now();
  }
}

function convert(name) {
  const conversion = new Conversion(name);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(__dirname, 'convert.js'), name], (err, stdout) => {
      if (err) reject(err);
      else resolve(`${conversion.name}:${stdout.trim()}`);
    });
  });
}

async function convertAll(count) {
  const out = [];
  for (let i = 0; i < count; i++) out.push(await convert(`doc-${i}.md`));
  return out.length;
}

globalThis.convertAll = convertAll;
console.log('converter ready');
setInterval(() => {}, 1 << 30);
