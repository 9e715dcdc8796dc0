import { ValidationError } from '@app/common';
import { findPrototypeKey, InvalidJsonError, isCheckedJsonBody, parseJsonBody } from './json-body';

describe('JSON bodies', () => {
  it('finds a __proto__ key anywhere and names its path', () => {
    expect(findPrototypeKey(JSON.parse('{"a":{"b":[1,{"__proto__":{}}]}}'))).toBe('a.b[1].__proto__');
    expect(findPrototypeKey(JSON.parse('{"__proto__":null}'))).toBe('__proto__');
    expect(findPrototypeKey(JSON.parse('[{"x":1},{"\\u005f_proto__":1}]'))).toBe('[1].__proto__');
  });

  it('finds constructor.prototype, but leaves a plain constructor field alone', () => {
    expect(findPrototypeKey(JSON.parse('{"e":{"constructor":{"prototype":{"x":1}}}}'))).toBe('e.constructor.prototype');
    expect(findPrototypeKey(JSON.parse('{"constructor":"a string","prototype":1}'))).toBeNull();
    expect(findPrototypeKey(JSON.parse('{"constructor":{"name":"x"}}'))).toBeNull();
  });

  it('quotes keys that are not identifiers', () => {
    expect(findPrototypeKey(JSON.parse('{"a b":{"__proto__":1}}'))).toBe('["a b"].__proto__');
  });

  it('walks 30,000 levels without recursion', () => {
    const deep = '['.repeat(30_000) + '{"__proto__":1}' + ']'.repeat(30_000);
    expect(findPrototypeKey(JSON.parse(deep))).toMatch(/^(\[0\]){30000}\.__proto__$/);
  });

  it('refuses a prototype key as a validation error naming the field, bad JSON as invalid_json', () => {
    let refused: unknown;
    try {
      parseJsonBody('{"event":{"__proto__":{"polluted":true}}}');
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).field).toBe('event.__proto__');
    expect((refused as ValidationError).message).toMatch(/^event\.__proto__: a "__proto__" key is refused/);
    expect(() => parseJsonBody('{"a":')).toThrow(InvalidJsonError);
    expect(() => parseJsonBody('')).toThrow(/empty/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('answers ordinary bodies as JSON.parse does', () => {
    const body = '{"event":{"type":"user-container:watchdog","system":{"cpu":{"usage":"0.4"}}},"project_id":"p"}';
    expect(parseJsonBody(body)).toEqual(JSON.parse(body));
  });

  it('refuses text PostgreSQL cannot store while parsing, naming the field; a clean body is marked as looked through', () => {
    const refusal = (text: string) => {
      try {
        parseJsonBody(text);
      } catch (err) {
        return err as ValidationError;
      }
      throw new Error(`accepted ${text}`);
    };
    expect(refusal('{"event":{"name":"a\\u0000b"}}')).toMatchObject({ field: 'event.name', message: expect.stringMatching(/NUL/) });
    expect(refusal('{"list":["ok","\\ud800"]}')).toMatchObject({ field: 'list[1]', message: expect.stringMatching(/surrogate/) });
    expect(refusal('{"\\udc00":1}').message).toMatch(/a key must not contain an unpaired UTF-16 surrogate/);
    expect(refusal('{"a":"x\\u0000"}')).toBeInstanceOf(ValidationError);
    // Escapes that decode to safe text (a pair, an accent) pass, as do bodies without escapes.
    const escaped = parseJsonBody('{"a":"\\ud83d\\ude00 \\u00e9"}') as object;
    expect(escaped).toEqual({ a: '\u{1F600} \u00e9' });
    expect(isCheckedJsonBody(escaped)).toBe(true);
    const plain = parseJsonBody('{"event":{"type":"user-container:watchdog"}}') as object;
    expect(isCheckedJsonBody(plain)).toBe(true);
    expect(isCheckedJsonBody({ event: {} })).toBe(false);
  });
});
