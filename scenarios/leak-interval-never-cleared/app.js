// Each "job" starts a polling interval that is never cleared; the interval's closure keeps the
// job's state (with its buffer of readings) alive forever.
'use strict';

class PollerState {
  constructor(jobId) {
    this.jobId = jobId;
    this.readings = new Array(64).fill(0);
    this.polls = 0;
  }
}

let nextJob = 0;

function startJobs(count) {
  for (let i = 0; i < count; i++) {
    const state = new PollerState(nextJob++);
    setInterval(() => {
      state.polls++;
    }, 3600 * 1000);
    // Bug: the job finishes but clearInterval is never called.
  }
}

globalThis.startJobs = startJobs;
console.log('scheduler ready');
setInterval(() => {}, 1 << 30); // stay alive like a server would
