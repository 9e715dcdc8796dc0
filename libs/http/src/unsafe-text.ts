import { fieldPath, type FieldProblem } from '@app/common';

/**
 * Text PostgreSQL cannot store (U+0000 in text or jsonb) or that is not Unicode (a UTF-16
 * surrogate without its pair; invalid UTF-8 in a URL): refused at the edge, naming the field,
 * before any handler, query or append sees it. Otherwise the database refuses it mid-command
 * (a 500 with its own message, or half a command done).
 */
// eslint-disable-next-line no-control-regex -- NUL is what this refuses
const UNSAFE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function unsafeTextProblem(v: string): string | undefined {
  const m = UNSAFE.exec(v);
  if (!m) return undefined;
  return m[0] === '\u0000' ? 'must not contain NUL (U+0000)' : 'must not contain an unpaired UTF-16 surrogate';
}

/**
 * The first unsafe string (value or key) in a parsed JSON body, with its path. Iterative: bodies
 * nested tens of thousands deep are refused elsewhere, and must not overflow the stack here.
 */
export function findUnsafeText(body: unknown, prefix = ''): FieldProblem | undefined {
  // Each entry points at its parent: the path is built only for the field at fault, so a body
  // nested tens of thousands deep costs time linear in its size.
  type Node = { value: unknown; key: PropertyKey | null; parent: Node | null };
  const pathOf = (n: Node | null, last?: PropertyKey): PropertyKey[] => {
    const path: PropertyKey[] = last === undefined ? [] : [last];
    for (let at = n; at && at.key !== null; at = at.parent) path.unshift(at.key);
    return path;
  };
  const stack: Node[] = [{ value: body, key: null, parent: null }];
  while (stack.length) {
    const node = stack.pop()!;
    const { value } = node;
    if (typeof value === 'string') {
      const problem = unsafeTextProblem(value);
      if (problem) return { field: fieldPath(pathOf(node), prefix), message: problem };
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], key: i, parent: node });
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        const problem = unsafeTextProblem(k);
        if (problem) return { field: fieldPath(pathOf(node, 'key'), prefix), message: `a key ${problem}` };
        stack.push({ value: v, key: k, parent: node });
      }
    }
  }
  return undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Percent-decodes strictly: invalid escapes or bytes that are not UTF-8 (encoded surrogates included) give null. */
export function decodeComponent(raw: string, plusIsSpace: boolean): string | null {
  const s = plusIsSpace ? raw.replace(/\+/g, ' ') : raw;
  if (!s.includes('%')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return null;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      const b = Buffer.from(s[i], 'utf8');
      if (c >= 0xd800 && c <= 0xdfff) return null;
      bytes.push(...b);
    }
  }
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    return null;
  }
}

/** The first unsafe field of a URL's path or query string (`application/x-www-form-urlencoded` bodies too). */
export function findUnsafeInUrl(url: string): FieldProblem | undefined {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const decodedPath = decodeComponent(path, false);
  if (decodedPath === null) return { field: 'path', message: 'must be valid percent-encoded UTF-8' };
  const pathProblem = unsafeTextProblem(decodedPath);
  if (pathProblem) return { field: 'path', message: pathProblem };
  return q < 0 ? undefined : findUnsafeInForm(url.slice(q + 1));
}

export function findUnsafeInForm(form: string): FieldProblem | undefined {
  for (const pair of form.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const key = decodeComponent(rawKey, true);
    const keyProblem = key === null ? 'must be valid percent-encoded UTF-8' : unsafeTextProblem(key);
    if (keyProblem || key === null) return { field: 'query', message: `parameter names ${keyProblem}` };
    const value = eq < 0 ? '' : decodeComponent(pair.slice(eq + 1), true);
    const problem = value === null ? 'must be valid percent-encoded UTF-8' : unsafeTextProblem(value);
    if (problem) return { field: key.slice(0, 100), message: problem };
  }
  return undefined;
}
