import { decodeComponent, findUnsafeInForm, findUnsafeInUrl, findUnsafeText, unsafeTextProblem } from './unsafe-text';

describe('unsafe text', () => {
  it('NUL and unpaired surrogates are unsafe; paired surrogates and other text are not', () => {
    for (const bad of ['\u0000', 'a\u0000', '\ud800', 'x\udc00y', '\udbff\u0041']) expect(unsafeTextProblem(bad)).toBeDefined();
    for (const ok of ['', 'plain', 'Ö ü €', '😀', 'a\ud83d\ude00b', '\u0001']) expect(unsafeTextProblem(ok)).toBeUndefined();
  });

  it('names the path of the first unsafe value or key, however deep, without recursion', () => {
    expect(findUnsafeText({ event: { system: { cpu: { model: 'a\u0000' } } } })?.field).toBe('event.system.cpu.model');
    expect(findUnsafeText([{ ok: 1 }, { x: [1, '\ud800'] }])?.field).toBe('[1].x[1]');
    expect(findUnsafeText({ a: { ['\udc00']: 1 } })?.field).toBe('a.key');
    let deep: unknown = 'fine';
    for (let i = 0; i < 50_000; i++) deep = { a: deep };
    expect(findUnsafeText(deep)).toBeUndefined();
  });

  it('decodes percent-encoding strictly: invalid UTF-8 and encoded surrogates are refused', () => {
    expect(decodeComponent('a%20b+c', true)).toBe('a b c');
    expect(decodeComponent('%E2%82%AC', false)).toBe('€');
    for (const bad of ['%ED%A0%80', '%C0%80', '%FF', '%E2%82', '%G0', '%']) expect(decodeComponent(bad, false)).toBeNull();
  });

  it('names the query parameter or the path', () => {
    expect(findUnsafeInUrl('/audit/events?actor=%00')).toEqual({ field: 'actor', message: expect.stringContaining('NUL') });
    expect(findUnsafeInUrl('/x/%00/y')?.field).toBe('path');
    expect(findUnsafeInUrl('/x?a=1&b=%ED%A0%80')?.field).toBe('b');
    expect(findUnsafeInForm('client_id=a%00b&x=1')?.field).toBe('client_id');
    expect(findUnsafeInUrl('/fine?a=%C3%96&b=c+d')).toBeUndefined();
  });
});
