// A message consumer that deduplicates by message id within a window: the Set of recent ids
// (small integers) is capped at 400 entries, the oldest evicted first. It fills during the
// warmup and then stays the same size: bounded, not a leak. Per-batch retry counts live in a
// Map of numbers cleared after every batch.
'use strict';
const WINDOW = 400;
const recentIds = new Set();
const retriesByMessage = new Map();
let nextMessageId = 1;

function consume(id) {
  if (recentIds.has(id)) return false;
  recentIds.add(id);
  if (recentIds.size > WINDOW) recentIds.delete(recentIds.values().next().value);
  retriesByMessage.set(id, (retriesByMessage.get(id) || 0) + 1);
  return true;
}

globalThis.consumeBatch = function consumeBatch(count) {
  let fresh = 0;
  for (let i = 0; i < count; i++) {
    const id = nextMessageId++;
    if (consume(id)) fresh++;
    consume(id); // a redelivery, dropped
  }
  retriesByMessage.clear();
  return fresh;
};

setInterval(() => {}, 60_000); // a service stays up
console.log('consumer ready');
