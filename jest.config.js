// Two tiers by location: unit specs beside the code (pure, no I/O), integration and end-to-end
// specs under test/ (real PostgreSQL, Redis, nginx; each file isolates itself).
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
  'vpn-node',
];
const moduleNameMapper = {
  '^@app/migrations$': '<rootDir>/migrations',
  ...Object.fromEntries(
    libs.flatMap((l) => [
      [`^@app/${l}$`, `<rootDir>/libs/${l}/src`],
      [`^@app/${l}/(.*)$`, `<rootDir>/libs/${l}/src/$1`],
    ]),
  ),
};
// @fastify/static (OpenAPI UI) depends on content-disposition 3, which ships ESM only: let swc
// turn it into CommonJS for jest; everything else in node_modules is left alone.
const common = {
  transform: { '^.+\\.ts$': swc, '/node_modules/content-disposition/.+\\.js$': swc },
  transformIgnorePatterns: ['/node_modules/(?!content-disposition/)'],
  moduleNameMapper,
  testEnvironment: 'node',
  rootDir: __dirname,
};

module.exports = {
  maxWorkers: 2,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.spec.ts'],
      slowTestThreshold: 30,
      globalSetup: '<rootDir>/test/support/global-setup.js',
    },
  ],
};
