import { ContainerEvent, ContainerRef, isProtectedService, SERVICE_MAPPED, SERVICE_UNMAPPED } from './events';

/** What `decide` needs to know about a container: its mapped services and who mapped them. */
export interface ContainerState {
  version: number;
  services: Record<string, { port: number; protected: boolean; eventId: string; position: string }>;
}

export const initialState = (): ContainerState => ({ version: -1, services: {} });

export interface Recorded {
  type: string;
  data: unknown;
  eventId: string;
  globalPosition: string;
  streamVersion: number;
}

/** Folds one stored event into the state. Unknown types (added by later features) only move the version. */
export function evolve(state: ContainerState, e: Recorded): ContainerState {
  const next = { version: e.streamVersion, services: state.services };
  if (e.type === SERVICE_MAPPED) {
    const d = e.data as { name: string; port: number; protected?: boolean };
    next.services = {
      ...state.services,
      [d.name]: { port: d.port, protected: isProtectedService(d.name, d.protected), eventId: e.eventId, position: e.globalPosition },
    };
  } else if (e.type === SERVICE_UNMAPPED) {
    const { [(e.data as { name: string }).name]: _gone, ...rest } = state.services;
    next.services = rest;
  }
  return next;
}

export type ContainerCommand =
  | { type: 'map-http-service'; ref: ContainerRef; name: string; port: number; protected?: boolean }
  | { type: 'unmap-http-service'; ref: ContainerRef; name: string };

/**
 * Decides which events a command produces. The seed's script re-posts the same mapping every 15 s:
 * an unchanged mapping, or unmapping what is not mapped, produces no event.
 */
export function decide(cmd: ContainerCommand, state: ContainerState): ContainerEvent[] {
  const current = state.services[cmd.name];
  if (cmd.type === 'map-http-service') {
    const wanted = isProtectedService(cmd.name, cmd.protected);
    if (current && current.port === cmd.port && current.protected === wanted) return [];
    // `protected` is written only when asked for: other events keep their old shape (the terminal's
    // protection is a rule applied when the event is read, not a fact of the mapping).
    return [
      {
        type: SERVICE_MAPPED,
        data: { ...cmd.ref, name: cmd.name, port: cmd.port, ...(cmd.protected === true ? { protected: true } : {}) },
      },
    ];
  }
  if (!current) return [];
  return [{ type: SERVICE_UNMAPPED, data: { ...cmd.ref, name: cmd.name } }];
}
