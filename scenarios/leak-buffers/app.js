// A "replay log" that keeps a copy of every message payload it ever sent.
'use strict';

const sentPayloads = [];
let sequence = 0;

function sendMessages(count) {
  for (let i = 0; i < count; i++) {
    const payload = Buffer.alloc(256);
    payload.writeUInt32BE(sequence++, 0);
    sentPayloads.push(payload); // Bug: kept "for replay", never dropped.
  }
}

globalThis.sendMessages = sendMessages;
console.log('sender ready');
setInterval(() => {}, 1 << 30);
