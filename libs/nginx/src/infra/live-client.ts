import { request, type IncomingHttpHeaders } from 'node:http';

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

  /** What nginx serves, entry by entry (empty until a snapshot made it ready), with its state. */
  async dump(): Promise<{ state: LiveState; entries: Map<string, string> }> {
    const res = await this.request('GET', '/routes/dump');
    if (res.status !== 200) throw new Error(`nginx route channel GET /routes/dump: ${res.status} ${res.text.slice(0, 200)}`);
    const h = res.headers;
    const state: LiveState = {
      ready: h['x-routes-ready'] === 'true',
      generation: Number(h['x-routes-generation'] ?? 0),
      count: Number(h['x-routes-count'] ?? 0),
      hash: String(h['x-routes-hash'] ?? ''),
      map_hash: String(h['x-routes-map-hash'] ?? ''),
    };
    const entries = new Map<string, string>();
    for (const line of res.text.split('\n')) {
      const sp = line.indexOf(' ');
      if (sp > 0) entries.set(line.slice(0, sp), line.slice(sp + 1));
    }
    return { state, entries };
  }

  private async call(method: string, path: string, body?: string): Promise<LiveState> {
    const res = await this.request(method, path, body);
    let state: LiveState;
    try {
      state = JSON.parse(res.text) as LiveState;
    } catch {
      throw new Error(`nginx route channel ${method} ${path.split('?')[0]}: ${res.status} ${res.text.slice(0, 200)}`);
    }
    if (res.status === 200) return state;
    if (res.status === 409) throw new LiveConflict(state);
    throw new Error(`nginx route channel ${method} ${path.split('?')[0]}: ${res.status} ${state.error ?? ''}`);
  }

  private request(method: string, path: string, body?: string): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
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
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`nginx route channel: no answer in ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}
