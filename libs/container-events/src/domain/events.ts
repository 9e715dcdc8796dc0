/**
 * The container events as stored. The `type` strings are the persisted contract: never rename.
 * Heartbeats go to `watchdog-{container}` (thousands a day); everything that changes the
 * container's state goes to `container-{container}`, which stays small enough to load and decide on.
 */
export const WATCHDOG = 'user-container:watchdog';
export const SERVICE_MAPPED = 'user-container:http-service-mapped';
export const SERVICE_UNMAPPED = 'user-container:http-service-unmapped';

export const containerStream = (containerId: string) => `container-${containerId}`;
export const watchdogStream = (containerId: string) => `watchdog-${containerId}`;

/** Raw stats exactly as the container's shell tools produced them (bounded strings/numbers). */
export type RawStat = string | number | boolean | null;
export interface RawSystem {
  cpu?: { usage?: RawStat; count?: RawStat; threads_per_core?: RawStat; model?: RawStat };
  memory?: { free?: RawStat; total?: RawStat };
  disk?: { size?: RawStat; usage?: RawStat };
  network?: { ping_time?: RawStat };
  graphic?: { cards?: RawStat };
}

export interface ServiceReadiness {
  name: string;
  healthy: boolean;
  message?: string;
}

export interface ContainerRef {
  container_id: string;
  org_id: string;
  project_id: string;
}

export interface WatchdogData extends ContainerRef {
  system: RawSystem;
  services?: ServiceReadiness[];
}

export interface ServiceMappedData extends ContainerRef {
  name: string;
  port: number;
  /** Present (true) only when the service was mapped as protected; absent in older events. */
  protected?: boolean;
}

/** The terminal is always behind sign-in, whatever the mapping says. */
export const ALWAYS_PROTECTED_SERVICES: readonly string[] = ['terminal'];
export const isProtectedService = (name: string, requested?: boolean) => requested === true || ALWAYS_PROTECTED_SERVICES.includes(name);

export interface ServiceUnmappedData extends ContainerRef {
  name: string;
}

export type ContainerEvent =
  { type: typeof SERVICE_MAPPED; data: ServiceMappedData } | { type: typeof SERVICE_UNMAPPED; data: ServiceUnmappedData };

export type WatchdogEvent = { type: typeof WATCHDOG; data: WatchdogData };
