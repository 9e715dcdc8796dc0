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

/**
 * The Object of Node's main realm. Under jest the caller's plain objects come from the test's vm
 * context, whose Object differs; oidc-provider tells plain objects by `constructor === Object`.
 * In the built app both are the same and the copy below changes nothing.
 */
const NativeObject = (process.getBuiltinModule('node:vm') as typeof import('node:vm')).runInThisContext('Object') as ObjectConstructor;

/** A deep copy of a configuration whose plain objects belong to Node's main realm (functions, arrays' items and class instances kept). */
export function nativePlain<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => nativePlain(v)) as T;
  if (value && typeof value === 'object' && (value.constructor === Object || value.constructor === NativeObject)) {
    const out = new NativeObject() as Record<string, unknown>;
    for (const [k, v] of Object.entries(value)) out[k] = nativePlain(v);
    return out as T;
  }
  return value;
}
