// Answers three jobs (the warmup and two measured iterations), then exits on its own.
'use strict';
let answered = 0;
process.on('message', ({ id }) => {
  process.send({ id });
  answered += 1;
  if (answered === 3) setTimeout(() => process.exit(0), 50);
});
