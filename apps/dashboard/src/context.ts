import type { HealthChange } from './types';

/** What every view gets: where to draw, who is signed in, and the live health changes. */
export interface ViewContext {
  main: HTMLElement;
  role: string | null;
  /** Subscribes to health changes from the SSE stream; returns the unsubscribe function. */
  onChange(fn: (c: HealthChange) => void): () => void;
  /** Subscribes to (re)connections of the stream (reload what may have been missed). */
  onReconnect(fn: () => void): () => void;
  /** Registers clean-up for when the view is left. */
  onLeave(fn: () => void): void;
  /** Aborted when the view is left: pass it to fetches. */
  signal: AbortSignal;
}
