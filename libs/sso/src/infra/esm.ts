/**
 * oidc-provider 9 and openid-client 6 ship ESM only. Node 20.19+ loads ESM through require(), but
 * jest (CommonJS through @swc/jest) runs every require() through its own module registry, which
 * cannot. A require made by node:module's createRequire is Node's own: the ESM graph is loaded
 * natively, outside jest's registry and transforms, in tests and in the built app alike. This file
 * is the only place that does it.
 */
// process.getBuiltinModule (Node 20.16+) hands out the real node:module even under jest, whose own
// `require('module')` is patched to route createRequire back through its registry.
const { createRequire } = process.getBuiltinModule('node:module') as typeof import('node:module');
const nativeRequire = createRequire(__filename);

export function requireEsm<T>(specifier: string): T {
  return nativeRequire(specifier) as T;
}
