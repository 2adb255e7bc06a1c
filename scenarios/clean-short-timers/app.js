// Retry-with-backoff helper: each call schedules short timers that fire, and are done, before the
// call's promise resolves.
'use strict';

class Attempt {
  constructor(n) {
    this.n = n;
    this.startedAt = Date.now();
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function fetchWithRetry(id) {
  for (let n = 1; n <= 3; n++) {
    const attempt = new Attempt(n);
    await sleep(1);
    if (n === 3 || (id + attempt.n) % 2 === 0) return attempt.n;
  }
  return 0;
}

async function fetchAll(count) {
  const results = await Promise.all(Array.from({ length: count }, (_, i) => fetchWithRetry(i)));
  return results.reduce((a, b) => a + b, 0);
}

globalThis.fetchAll = fetchAll;
console.log('fetcher ready');
setInterval(() => {}, 1 << 30);
