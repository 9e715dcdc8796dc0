// The Node flags the gateway and the worker run with, wherever they are started: `npm start`
// (scripts/start.js), the bench (bench/run.ts) and the gateway node image
// (docker-images/backend-images/gateway/entrypoint.sh repeats them).
//
// --max-old-space-size: V8 sizes the old generation from the machine's memory (2-4 GB on 24 GB)
// and lets it fill before a full collection; in the 10-minute soak the worker's RSS reached
// 330-350 MB with ~60 MB live. 192 MB holds both processes' live sets (rebuild pages of 10,000
// events included) with room, and keeps their RSS under ~250 MB (README, Measurements).
'use strict';

module.exports = { NODE_FLAGS: ['--enable-source-maps', '--max-old-space-size=192'] };
