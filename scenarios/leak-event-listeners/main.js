'use strict';
globalThis.pricing = require('./app.js');
console.log('pricing service ready');
setInterval(() => {}, 1 << 30);
