// Boundaries of the monorepo (npm run depcruise, part of npm test). Paths are repository-relative.
// - apps are on top: a lib never imports an app;
// - a lib is used through its public API only (libs/<name>/src/index.ts, imported as @app/<name>);
// - domain code (libs/*/src/domain) is pure: nothing that does I/O, no Nest;
// - no import circles, at file level (and so none between libs).
const IO = '^(pg|pg-[a-z-]+|typeorm|ioredis|bullmq|@nestjs/.+|node:(fs|fs/promises|net|child_process|http|https|dgram|dns))$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle: split the shared part out, or pass it in.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'libs-not-to-apps',
      severity: 'error',
      comment: 'Libs never import apps: the apps compose the libs.',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'lib-through-its-index',
      severity: 'error',
      comment: 'Another lib is used only through its index (@app/<name>), never a file inside it.',
      from: { path: '^libs/([^/]+)/' },
      to: { path: '^libs/([^/]+)/', pathNot: ['^libs/$1/', '^libs/[^/]+/src/index\\.ts$'] },
    },
    {
      name: 'outside-through-lib-index',
      severity: 'error',
      comment:
        "Apps, tests, bench, scripts and migrations use a lib through its index only (migrations may also import libs' own migrations/).",
      from: { path: '^(apps|test|bench|scripts|migrations)/' },
      to: { path: '^libs/', pathNot: ['^libs/[^/]+/src/index\\.ts$', '^libs/[^/]+/migrations/'] },
    },
    {
      name: 'lib-migrations-only-from-index',
      severity: 'error',
      comment: "A lib's migrations are collected by migrations/index.ts, and import nothing but typeorm.",
      from: { path: '^libs/[^/]+/migrations/' },
      to: { pathNot: ['^typeorm$', 'node_modules/typeorm/'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'Domain code (decide/evolve, renderers) does no I/O and knows no framework.',
      from: { path: '^libs/[^/]+/src/domain/' },
      to: { path: IO },
    },
    {
      name: 'domain-not-to-infrastructure',
      severity: 'error',
      comment: 'Domain code imports only domain code of its own lib (and other libs through their index).',
      from: { path: '^libs/([^/]+)/src/domain/' },
      to: { path: '^libs/$1/src/', pathNot: '^libs/$1/src/domain/' },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true, pathNot: '^([.][.]/)+dist/' },
      comment: 'The bench servers (bench/*.js, bench/lib/*.js) load the build (../dist, ../../dist), which need not exist when this runs.',
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|coverage|apps/dashboard/dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    combinedDependencies: false,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
