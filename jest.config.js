// Tiers by location: unit specs beside the code (pure, no I/O); under test/, integration specs
// (real PostgreSQL and Redis, the apps in-process) and end-to-end specs (processes, HTTP, nginx,
// browsers, bash: test/e2e, plus the fault and attack suites test/faults and test/security).
// Every file under test/ isolates itself (own database, Redis prefix, nginx prefix, ports).
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];
const libs = [
  'config',
  'database',
  'event-store',
  'auth',
  'http',
  'observability',
  'container-events',
  'common',
  'redis',
  'jobs',
  'onboarding',
  'projections',
  'health',
  'routing',
  'nginx',
  'audit',
  'sso',
  'certificates',
  'explain',
  'secrets',
];
const moduleNameMapper = {
  '^@app/migrations$': '<rootDir>/migrations',
  ...Object.fromEntries(libs.map((l) => [`^@app/${l}$`, `<rootDir>/libs/${l}/src`])),
};
const common = {
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper,
  testEnvironment: 'node',
  rootDir: __dirname,
};

const underTest = { slowTestThreshold: 30, globalSetup: '<rootDir>/test/support/global-setup.js' };

module.exports = {
  maxWorkers: 2,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.spec.ts'], ...underTest },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.spec.ts', '<rootDir>/test/faults/**/*.spec.ts', '<rootDir>/test/security/**/*.spec.ts'],
      ...underTest,
    },
  ],
};
