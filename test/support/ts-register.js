// Lets a plain `node` child process (or a bench script) load the TypeScript sources: .ts files are
// compiled with @swc/core as jest does, and @app/* resolves as in tsconfig.json.
const Module = require('node:module');
const path = require('node:path');
const fs = require('node:fs');
const { transformSync } = require('@swc/core');

const root = path.resolve(__dirname, '../..');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  if (request === '@app/migrations') request = path.join(root, 'migrations');
  else if (request.startsWith('@app/')) {
    const [lib, ...sub] = request.slice(5).split('/');
    request = path.join(root, 'libs', lib, 'src', ...sub);
  }
  return resolve.call(this, request, parent, ...rest);
};
require.extensions['.ts'] = function (module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  module._compile(code, filename);
};
