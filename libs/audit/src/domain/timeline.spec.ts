import { actorOf, summarize, watchdogHealth } from './timeline';

describe('timeline summaries', () => {
  it('reads each state change in one line, naming the actor', () => {
    expect(summarize({ type: 'user-container:http-service-mapped', data: { name: 'terminal', port: 7681 }, actor: 'container:c1' })).toBe(
      'service terminal mapped to port 7681 by container:c1',
    );
    expect(
      summarize({ type: 'user-container:vpn-address-assigned', data: { address: '172.16.0.2', gateway_node: 'gw-1' }, actor: null }),
    ).toBe('VPN address 172.16.0.2 assigned on gateway node gw-1');
    expect(summarize({ type: 'user-container:deleted', data: { reason: 'user request' }, actor: 'operator:alice' })).toBe(
      'deleted (user request) by operator:alice',
    );
  });

  it('leaves out raw watchdogs unless they mark a transition', () => {
    const data = { services: [{ name: 'jupyter', healthy: false }] };
    expect(summarize({ type: 'user-container:watchdog', data, actor: null })).toBeNull();
    expect(summarize({ type: 'user-container:watchdog', data, actor: null, transition: 'degraded' })).toBe(
      'health changed to degraded (unhealthy: jupyter)',
    );
    expect(summarize({ type: 'user-container:watchdog', data: {}, actor: null, transition: 'first' })).toBe('first watchdog: healthy');
    expect(watchdogHealth(data)).toBe('degraded');
  });

  it('formats actors and ignores unknown types', () => {
    expect(actorOf({ actor: { type: 'operator', id: 'alice' } })).toBe('operator:alice');
    expect(actorOf({})).toBeNull();
    expect(summarize({ type: 'gateway-node:registered', data: {}, actor: null })).toBeNull();
  });
});
