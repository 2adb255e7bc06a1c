// A one-shot helper: "converts" the named document and exits.
'use strict';
const name = process.argv[2] || 'doc.md';
const html = `<p>${name.replace(/\.md$/, '')}</p>`;
process.stdout.write(`${html.length}\n`);
