// A message consumer that deduplicates deliveries by remembering every message id it has seen,
// forever. Ids are small integers, so the Set's entries are stored unboxed in its hash table:
// no object appears per message, and only the Set's size shows the leak. Retry counts per
// message live in a Map of numbers to numbers that is cleared once a batch is done (clean).
'use strict';
const seenMessageIds = new Set();
const retriesByMessage = new Map();
let nextMessageId = 1;

function consume(id) {
  if (seenMessageIds.has(id)) return false;
  seenMessageIds.add(id);
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
