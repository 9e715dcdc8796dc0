import { parseSessions } from './management';

// `status 3` rows: CLIENT_LIST, common name, real address, virtual address, virtual IPv6, bytes
// received, bytes sent, connected since, connected since (time_t), username, client id, peer id, cipher.
const row = (cn: string, cid: string) =>
  [
    'CLIENT_LIST',
    cn,
    '10.213.12.2:51137',
    '10.213.100.3',
    '',
    '100',
    '200',
    '2026-11-29 16:18:30',
    '1795969110',
    cn,
    cid,
    '0',
    'AES-256-GCM',
  ].join('\t');

describe('OpenVPN management: sessions', () => {
  it('lists named sessions by client id, and leaves out one still in its handshake (UNDEF)', () => {
    const a = '49143de8-c360-4631-af16-dba8ca393990';
    const lines = ['TITLE\tOpenVPN 2.6.14', 'HEADER\tCLIENT_LIST\tCommon Name', row(a, '3'), row('UNDEF', '4'), 'ROUTING_TABLE\tx', 'END'];
    expect(parseSessions(lines)).toEqual([{ cn: a, cid: '3' }]);
  });
});
