// Hot numeric code called millions of times: V8 compiles and optimises it (feedback vectors,
// optimised code) during the first calls. That is the engine warming up, not a leak.
'use strict';

class Vec {
  constructor(x, y) {
    this.x = x;
    this.y = y;
  }

  add(other) {
    return new Vec(this.x + other.x, this.y + other.y);
  }

  length() {
    return Math.sqrt(this.x * this.x + this.y * this.y);
  }
}

function simulate(steps) {
  let position = new Vec(0, 0);
  const velocity = new Vec(0.5, 0.25);
  let distance = 0;
  for (let i = 0; i < steps; i++) {
    position = position.add(velocity);
    distance += position.length() % 3;
  }
  return distance;
}

function parseAll(n) {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += JSON.parse(`{"a":${i},"b":[1,2,3]}`).b.length;
  return sum;
}

globalThis.hot = { simulate, parseAll };
console.log('engine ready');
setInterval(() => {}, 1 << 30);
