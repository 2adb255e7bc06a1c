// Forwards jobs to the indexer worker and answers back; keeps nothing.
'use strict';
const { Worker, parentPort } = require('worker_threads');
const path = require('path');

const indexer = new Worker(path.join(__dirname, 'indexer.js'));
indexer.on('message', (reply) => parentPort.postMessage(reply));
parentPort.on('message', (job) => indexer.postMessage(job));
