// Benchmarks that run under jest (they reuse the test stack) but are not part of `npm test`.
const base = require('./jest.config.js').projects[1];
module.exports = { ...base, displayName: 'bench', testMatch: ['<rootDir>/bench/**/*.bench.ts'], testTimeout: 600_000 };
