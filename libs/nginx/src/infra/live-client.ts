import { request } from 'node:http';

/** What nginx reports it serves (live-lua.ts). */
export interface LiveState {
  ready: boolean;
  generation: number;
  count: number;
  hash: string;
  /** The hash of the rendered map nginx loaded at start (what it answers from until `ready`). */
  map_hash: string;
  error?: string;
}

export class LiveConflict extends Error {
  constructor(readonly state: LiveState) {
    super(`nginx refused the push: ${state.error ?? 'conflict'} (serving generation ${state.generation})`);
  }
}

/** The worker's end of nginx's route channel: HTTP over the unix socket only nginx and the worker share. */
export class LiveClient {
  constructor(
    private readonly socketPath: string,
    private readonly timeoutMs: number,
  ) {}

  state(): Promise<LiveState> {
    return this.call('GET', '/routes/state');
  }

  snapshot(generation: number, body: string): Promise<LiveState> {
    return this.call('POST', `/routes/snapshot?gen=${generation}`, body);
  }

  delta(from: number, to: number, hash: string, body: string): Promise<LiveState> {
    return this.call('POST', `/routes/delta?from=${from}&to=${to}&hash=${hash}`, body);
  }

  private call(method: string, path: string, body?: string): Promise<LiveState> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socketPath,
          method,
          path,
          headers: {
            host: 'localhost',
            'content-type': 'text/plain',
            ...(body !== undefined ? { 'content-length': Buffer.byteLength(body) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let state: LiveState;
            try {
              state = JSON.parse(text) as LiveState;
            } catch {
              return reject(new Error(`nginx route channel ${method} ${path.split('?')[0]}: ${res.statusCode} ${text.slice(0, 200)}`));
            }
            if (res.statusCode === 200) resolve(state);
            else if (res.statusCode === 409) reject(new LiveConflict(state));
            else reject(new Error(`nginx route channel ${method} ${path.split('?')[0]}: ${res.statusCode} ${state.error ?? ''}`));
          });
          res.on('error', reject);
        },
      );
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`nginx route channel: no answer in ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}
