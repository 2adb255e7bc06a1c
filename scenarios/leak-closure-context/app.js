// The classic closure-shares-a-context leak (Meteor, 2013): `unused` references
// `originalThing`, so V8 puts it in the context that `someMethod` shares; each Thing keeps the
// previous one alive through someMethod's context, and the chain grows forever.
'use strict';

class Thing {
  constructor(serial, someMethod) {
    this.serial = serial;
    this.longStr = `${serial}:` + '*'.repeat(1000);
    this.someMethod = someMethod;
  }
}

let theThing = null;
let serial = 0;

function replaceThing() {
  const originalThing = theThing;
  const unused = function () {
    if (originalThing) return 'hi';
    return undefined;
  };
  theThing = new Thing(serial++, function someMethod() {
    return 'some message';
  });
  return unused;
}

globalThis.replaceThing = replaceThing;
console.log('meteor ready');
setInterval(() => {}, 1 << 30);
