// The parent forks a thumbnail renderer with a minimal environment of its own (a common way to
// keep secrets out of a helper), so the child does not inherit the parent's NODE_OPTIONS.
'use strict';
const { fork } = require('child_process');
const path = require('path');

const renderer = fork(path.join(__dirname, 'thumbnailer.js'), [], {
  env: { PATH: process.env.PATH, THUMB_QUALITY: '80' },
});
const waiting = new Map();
let nextJob = 0;

renderer.on('message', ({ id, bytes }) => {
  const resolve = waiting.get(id);
  if (resolve) {
    waiting.delete(id);
    resolve(bytes);
  }
});

function render(image) {
  const id = nextJob++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    renderer.send({ id, image });
  });
}

async function renderThumbnails(count) {
  const sizes = await Promise.all(Array.from({ length: count }, (_, i) => render(`photo-${i}.jpg`)));
  return sizes.reduce((a, b) => a + b, 0);
}

globalThis.renderThumbnails = renderThumbnails;
render('warmup.jpg').then(() => console.log('parent ready, renderer answered'));
