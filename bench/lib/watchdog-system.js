// The `system` of every watchdog the bench posts or writes (watchdog-load.js, scenarios/write-set.ts):
// the seed's example (DESIGN.md), so each event's size and parsing cost are a real container's.
'use strict';

const WATCHDOG_SYSTEM = Object.freeze({
  cpu: { usage: '0.40, 0.43 ', count: '2', threads_per_core: '1', model: 'AMD EPYC' },
  memory: { free: 23665, total: 24105 },
  disk: { size: '252G', usage: '23.00%' },
  network: { ping_time: ' ms' },
  graphic: { cards: '' },
});

module.exports = { WATCHDOG_SYSTEM };
