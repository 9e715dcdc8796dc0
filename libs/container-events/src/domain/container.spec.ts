import { decide, evolve, initialState, type Recorded } from './container';
import { SERVICE_MAPPED, SERVICE_UNMAPPED } from './events';

const ref = { container_id: 'c', org_id: 'o', project_id: 'p' };
let pos = 0;
const recorded = (type: string, data: object): Recorded => ({
  type,
  data,
  eventId: `e${++pos}`,
  globalPosition: String(pos),
  streamVersion: pos - 1,
});
const given = (...events: Recorded[]) => events.reduce(evolve, initialState());

describe('container decider', () => {
  beforeEach(() => (pos = 0));

  it('maps a new service', () => {
    expect(decide({ type: 'map-http-service', ref, name: 'terminal', port: 7681 }, given())).toEqual([
      { type: SERVICE_MAPPED, data: { ...ref, name: 'terminal', port: 7681 } },
    ]);
  });

  it('produces nothing for an unchanged mapping (re-posted every 15 s)', () => {
    const state = given(recorded(SERVICE_MAPPED, { ...ref, name: 'terminal', port: 7681 }));
    expect(decide({ type: 'map-http-service', ref, name: 'terminal', port: 7681 }, state)).toEqual([]);
    expect(state.services.terminal).toEqual({ port: 7681, protected: true, eventId: 'e1', position: '1' });
  });

  it('records a protected mapping, and a change of protection is a new mapping', () => {
    expect(decide({ type: 'map-http-service', ref, name: 'pgadmin', port: 5050, protected: true }, given())).toEqual([
      { type: SERVICE_MAPPED, data: { ...ref, name: 'pgadmin', port: 5050, protected: true } },
    ]);
    const open = given(recorded(SERVICE_MAPPED, { ...ref, name: 'pgadmin', port: 5050 }));
    expect(open.services.pgadmin.protected).toBe(false);
    expect(decide({ type: 'map-http-service', ref, name: 'pgadmin', port: 5050, protected: true }, open)).toHaveLength(1);
    const closed = given(recorded(SERVICE_MAPPED, { ...ref, name: 'pgadmin', port: 5050, protected: true }));
    expect(decide({ type: 'map-http-service', ref, name: 'pgadmin', port: 5050, protected: true }, closed)).toEqual([]);
    expect(decide({ type: 'map-http-service', ref, name: 'pgadmin', port: 5050 }, closed)).toHaveLength(1);
  });

  it('keeps the terminal protected whatever the mapping says', () => {
    const state = given(recorded(SERVICE_MAPPED, { ...ref, name: 'terminal', port: 7681 }));
    expect(decide({ type: 'map-http-service', ref, name: 'terminal', port: 7681, protected: false }, state)).toEqual([]);
  });

  it('re-maps a service to a new port', () => {
    const state = given(recorded(SERVICE_MAPPED, { ...ref, name: 'web', port: 80 }));
    expect(decide({ type: 'map-http-service', ref, name: 'web', port: 8080 }, state)).toEqual([
      { type: SERVICE_MAPPED, data: { ...ref, name: 'web', port: 8080 } },
    ]);
  });

  it('unmaps what is mapped, and nothing otherwise', () => {
    const state = given(recorded(SERVICE_MAPPED, { ...ref, name: 'web', port: 80 }));
    expect(decide({ type: 'unmap-http-service', ref, name: 'web' }, state)).toEqual([
      { type: SERVICE_UNMAPPED, data: { ...ref, name: 'web' } },
    ]);
    const after = evolve(state, recorded(SERVICE_UNMAPPED, { ...ref, name: 'web' }));
    expect(after.services).toEqual({});
    expect(after.version).toBe(1);
    expect(decide({ type: 'unmap-http-service', ref, name: 'web' }, after)).toEqual([]);
  });

  it('moves the version past events of other kinds', () => {
    expect(given(recorded('user-container:registered', ref)).version).toBe(0);
  });
});
