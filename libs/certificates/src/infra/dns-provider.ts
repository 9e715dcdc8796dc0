/**
 * Answers ACME DNS-01 challenges: publish `_acme-challenge.<name>. TXT <value>` and take it away
 * again. Operators plug their DNS in here (RFC 2136 dynamic update, a provider's API); the one
 * implementation shipped talks to pebble-challtestsrv's management API, which tests and local
 * ACME setups use.
 */
export interface Dns01Provider {
  readonly name: string;
  setTxt(recordName: string, value: string): Promise<void>;
  clearTxt(recordName: string, value: string): Promise<void>;
}

/** pebble-challtestsrv: POST /set-txt and /clear-txt on its management port ({"host": "<fqdn>.", "value"}). */
export class ChallTestSrvDns implements Dns01Provider {
  readonly name = 'challtestsrv';

  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 5_000,
  ) {}

  async setTxt(recordName: string, value: string): Promise<void> {
    await this.post('/set-txt', { host: fqdn(recordName), value });
  }

  async clearTxt(recordName: string): Promise<void> {
    await this.post('/clear-txt', { host: fqdn(recordName) });
  }

  private async post(path: string, body: unknown): Promise<void> {
    const res = await fetch(new URL(path, this.baseUrl), {
      method: 'POST',
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    }).catch((err: Error) => {
      throw new DnsError(`${this.baseUrl}${path}: ${err.message}${err.cause ? ` (${(err.cause as Error).message})` : ''}`);
    });
    if (!res.ok) throw new DnsError(`${this.baseUrl}${path} answered ${res.status}`);
  }
}

/** A DNS provider could not publish or remove a record: the stage of the failure is `dns`. */
export class DnsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DnsError';
  }
}

const fqdn = (name: string) => (name.endsWith('.') ? name : `${name}.`);
