/**
 * How the gateway asks the worker to re-render the VPN server's ccd files and CRL after an
 * assignment or a deletion, without depending on the queue: OnboardingModule provides a listener
 * that enqueues a coalesced `vpn:render-client-files` job. A lost call is repaired by the
 * worker's periodic reconciliation.
 */
export const VPN_FILES_CHANGED = Symbol('VPN_FILES_CHANGED');

export interface VpnFilesChangedListener {
  vpnFilesChanged(reason: string): Promise<void>;
  /**
   * The same, then waits (at most `timeoutMs`) until that render has run: a container's first
   * /collab/vpn-config answers once its ccd file exists, so its first connection is not refused.
   * Resolves false on timeout (the render still happens).
   */
  vpnFilesRendered?(reason: string, timeoutMs: number): Promise<boolean>;
}
