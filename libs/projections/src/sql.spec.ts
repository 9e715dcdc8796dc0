import { sqlLiteral, sqlUuidArray } from './sql';

describe('literal SQL constants', () => {
  it('dollar-quotes text with a tag the text does not hold', () => {
    expect(sqlLiteral(`it's \\ "x"`)).toBe(`$q$it's \\ "x"$q$`);
    expect(sqlLiteral('a $q$ b')).toBe('$q0$a $q$ b$q0$');
    expect(sqlLiteral('$q$ $q0$ $q1$')).toBe('$q2$$q$ $q0$ $q1$$q2$');
  });

  it('writes checked uuids as a uuid[] constant and refuses anything else', () => {
    const id = '0b9f6f5e-2c3d-4e5f-8a9b-0c1d2e3f4a5b';
    expect(sqlUuidArray([id, id])).toBe(`'{${id},${id}}'::uuid[]`);
    expect(sqlUuidArray([])).toBe(`'{}'::uuid[]`);
    expect(() => sqlUuidArray([id, `x'}'::uuid[]); DROP TABLE t; --`])).toThrow(/not a uuid/);
  });
});
