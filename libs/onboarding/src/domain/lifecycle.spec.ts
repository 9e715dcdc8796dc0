import { ConflictError, NotFoundError, UnavailableError } from '@app/common';
import { decideLifecycle, evolveLifecycle, initialLifecycle, LifecycleState } from './lifecycle';
import { decideNode, evolveNode, initialNode, placeContainer } from './pool';

const ID = '11111111-1111-4111-8111-111111111111';
const ORG = '22222222-2222-4222-8222-222222222222';
const PROJECT = '33333333-3333-4333-8333-333333333333';
const container = {
  container_id: ID,
  org_id: ORG,
  project_id: PROJECT,
  image_id: 'ubuntu:terminal',
  display_name: 'T',
  gateway_node: 'gw-a',
};
const token = { kid: 'k1', expiresAt: '2030-01-01T00:00:00.000Z' };

const given = (events: { type: string; data: unknown }[]): LifecycleState =>
  events.reduce((s, e, i) => evolveLifecycle(s, { ...e, streamVersion: i }), initialLifecycle());

describe('container lifecycle decider', () => {
  const registered = decideLifecycle({ type: 'register', container, token }, initialLifecycle());

  it('registers with token version 1', () => {
    expect(registered).toEqual([
      { type: 'user-container:registered', data: container },
      { type: 'user-container:token-issued', data: { container_id: ID, token_version: 1, kid: 'k1', expires_at: token.expiresAt } },
    ]);
    expect(() => decideLifecycle({ type: 'register', container, token }, given(registered))).toThrow(ConflictError);
  });

  it('rotates to the next version; refuses unknown or deleted containers', () => {
    const s = given(registered);
    expect(decideLifecycle({ type: 'rotate-token', token }, s)[0].data).toMatchObject({ token_version: 2 });
    expect(() => decideLifecycle({ type: 'rotate-token', token }, initialLifecycle())).toThrow(NotFoundError);
    const deleted = given([
      ...registered,
      { type: 'user-container:deleted', data: { container_id: ID, org_id: ORG, project_id: PROJECT } },
    ]);
    expect(() => decideLifecycle({ type: 'rotate-token', token }, deleted)).toThrow(ConflictError);
  });

  it('deletes, releasing the address and revoking the certificate the stream or the tables know', () => {
    const s = given([
      ...registered,
      { type: 'user-container:vpn-address-assigned', data: { address: '172.16.0.2' } },
      { type: 'user-container:certificate-issued', data: { serial: 'ab' } },
    ]);
    expect(decideLifecycle({ type: 'delete' }, s).map((e) => [e.type, e.data])).toEqual([
      ['user-container:deleted', { container_id: ID, org_id: ORG, project_id: PROJECT }],
      ['user-container:vpn-address-released', { container_id: ID, address: '172.16.0.2' }],
      ['user-container:certificate-revoked', { container_id: ID, serial: 'ab', reason: 'container-deleted' }],
    ]);
    // Tables ahead of the stream (a crash between allocation and recording): the tables win.
    expect(
      decideLifecycle({ type: 'delete', address: '172.16.0.9', serial: 'cd', reason: 'r' }, given(registered)).map((e) => e.data),
    ).toEqual([
      { container_id: ID, org_id: ORG, project_id: PROJECT, reason: 'r' },
      { container_id: ID, address: '172.16.0.9' },
      { container_id: ID, serial: 'cd', reason: 'container-deleted' },
    ]);
    expect(decideLifecycle({ type: 'delete' }, given(registered))).toHaveLength(1);
  });

  it('ignores ingest events beside moving the version', () => {
    const s = given([...registered, { type: 'user-container:http-service-mapped', data: { name: 'x', port: 1 } }]);
    expect(s.version).toBe(2);
    expect(s.tokenVersion).toBe(1);
  });
});

describe('placement rule', () => {
  const n = (nodeId: string, load: number, capacity: number, drained = false) => ({ nodeId, load, capacity, drained });

  it('uses the default node only while the pool is empty', () => {
    expect(placeContainer([], 'default')).toBe('default');
    expect(() => placeContainer([n('a', 1, 1), n('b', 0, 5, true)], 'default')).toThrow(UnavailableError);
  });

  it('picks the lowest load relative to capacity, then the most room, then the lowest id', () => {
    expect(placeContainer([n('a', 5, 10), n('b', 30, 100)], 'd')).toBe('b');
    expect(placeContainer([n('a', 0, 2), n('b', 0, 4)], 'd')).toBe('b');
    expect(placeContainer([n('b', 1, 4), n('a', 1, 4)], 'd')).toBe('a');
    expect(placeContainer([n('a', 0, 100, true), n('b', 99, 100)], 'd')).toBe('b');
  });
});

describe('gateway node decider', () => {
  const node = { node_id: 'gw-a', fqdn: 'gw-a.example.test', vpn_endpoint: 'gw-a.example.test:1194', capacity: 10 };
  const registered = [{ type: 'gateway-node:registered', data: node, streamVersion: 0 }].reduce(evolveNode, initialNode());

  it('registers once; the same values again change nothing, others conflict', () => {
    expect(decideNode({ type: 'register', node }, initialNode())).toEqual([{ type: 'gateway-node:registered', data: node }]);
    expect(decideNode({ type: 'register', node }, registered)).toEqual([]);
    expect(() => decideNode({ type: 'register', node: { ...node, capacity: 11 } }, registered)).toThrow(ConflictError);
  });

  it('drains once, and only a known node', () => {
    expect(decideNode({ type: 'drain' }, registered)).toEqual([{ type: 'gateway-node:drained', data: { node_id: 'gw-a' } }]);
    expect(decideNode({ type: 'drain' }, evolveNode(registered, { type: 'gateway-node:drained', data: {}, streamVersion: 1 }))).toEqual([]);
    expect(() => decideNode({ type: 'drain' }, initialNode())).toThrow(NotFoundError);
  });
});
