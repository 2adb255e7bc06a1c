// Sends 50 requests to the server, one after another, and exits non-zero on any failure.
'use strict';
const http = require('http');
const port = Number(process.argv[2]);
const agent = new http.Agent({ keepAlive: true });

function get(path) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    }).on('error', reject);
  });
}

(async () => {
  for (let i = 0; i < 50; i++) await get(`/items/${i}`);
  agent.destroy();
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
