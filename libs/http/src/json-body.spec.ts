import { ValidationError } from '@app/common';
import { findPrototypeKey, InvalidJsonError, parseJsonBody } from './json-body';

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
});
