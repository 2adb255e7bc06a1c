// A bounded LRU cache in front of a slow lookup: it fills up during the warmup and then only
// replaces entries, so its size never grows past its capacity.
'use strict';

class CacheEntry {
  constructor(key, value) {
    this.key = key;
    this.value = value;
    this.hits = 0;
  }
}

class LruCache {
  constructor(capacity) {
    this.capacity = capacity;
    this.entries = new Map();
  }

  get(key, load) {
    let entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key); // re-insert to mark as most recently used
    } else {
      entry = new CacheEntry(key, load(key));
      if (this.entries.size >= this.capacity) {
        this.entries.delete(this.entries.keys().next().value); // evict the least recently used
      }
    }
    entry.hits++;
    this.entries.set(key, entry);
    return entry.value;
  }
}

const cache = new LruCache(200);
let cursor = 0;

function lookupUsers(count) {
  let found = 0;
  for (let i = 0; i < count; i++) {
    // Keys walk through 1,000 user ids, so every call misses most of the time and evicts.
    const key = `user:${cursor++ % 1000}`;
    found += cache.get(key, (k) => ({ name: k.toUpperCase(), roles: ['reader'] })).roles.length;
  }
  return found;
}

globalThis.lookupUsers = lookupUsers;
console.log('cache ready');
setInterval(() => {}, 1 << 30);
