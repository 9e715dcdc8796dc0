import { isPort, serviceFqdn, serviceNameProblem } from './allow-lists';

describe('allow-lists', () => {
  it.each(['terminal', 'a', 'jupyter-lab', 'n8n', 'a'.repeat(22)])('accepts service name %j', (n) =>
    expect(serviceNameProblem(n)).toBeNull(),
  );
  it.each(['', 'A', '1a', 'a--b', 'a-', 'a b', 'a;', 'a\n', 'a'.repeat(23), 'é', '$x'])('refuses service name %j', (n) =>
    expect(serviceNameProblem(n)).not.toBeNull(),
  );
  it.each([
    [1, true],
    [65535, true],
    [0, false],
    [65536, false],
    [80.5, false],
    ['80', false],
  ])('port %j -> %j', (p, ok) => expect(isPort(p)).toBe(ok));

  it('builds the FQDN scheme within DNS limits', () => {
    const c = '0e8f7a52-3a4b-4c5d-8e9f-0a1b2c3d4e5f';
    const o = '11111111-2222-4333-8444-555555555555';
    const fqdn = serviceFqdn({ containerId: c, orgId: o, domain: 'example.com', service: 'a'.repeat(22) });
    expect(fqdn).toBe(`uc-${c}--${'a'.repeat(22)}.org-${o}.example.com`);
    expect(fqdn.split('.')[0].length).toBeLessThanOrEqual(63);
    expect(serviceFqdn({ containerId: c, orgId: o, domain: 'example.com' })).toBe(`uc-${c}.org-${o}.example.com`);
    expect(() => serviceFqdn({ containerId: 'x', orgId: o, domain: 'example.com' })).toThrow();
  });
});
