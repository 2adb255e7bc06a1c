// Opens a fresh connection per request (no keep-alive), 25 times, and fails on any error.
'use strict';
const http = require('http');
const port = Number(process.argv[2]);

function lookup(key) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: `/${key}`, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
  });
}

(async () => {
  for (let i = 0; i < 25; i++) await lookup(`key-${i}`);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
