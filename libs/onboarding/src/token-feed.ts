import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Client, Pool } from 'pg';
import { APP_CONFIG, AppConfig } from '@app/config';
import { PG_POOL } from '@app/database';
import { TokenVerdict, TokenVersionMap, TokenVersionSource, verdictOf } from '@app/auth';

const CHANNEL = 'container_tokens';
const NOTE = /^([0-9a-f-]{36}):(\d+):([01])$/;

/**
 * Keeps every container's token version in memory for the JWT strategy (libs/auth
 * token-versions.ts). Loaded whole at start, then fed by the NOTIFYs that the events trigger sends
 * when a registration, rotation or deletion commits, and reloaded whole every
 * TOKEN_VERSIONS_RESYNC_S as a safety net. While the listening connection is down the map is
 * not trusted and each check asks the database, until a reconnect has reloaded everything.
 */
@Injectable()
export class ContainerTokenFeed implements TokenVersionSource, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('token-feed');
  private readonly map = new TokenVersionMap();
  private client?: Client;
  private synced = false;
  private closed = false;
  private retryMs = 500;
  private resync?: NodeJS.Timeout;
  private reconnect?: NodeJS.Timeout;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(PG_POOL) private readonly pool: Pool,
  ) {}

  get inSync(): boolean {
    return this.synced;
  }

  get size(): number {
    return this.map.size;
  }

  check(containerId: string, tokenVersion: number | undefined): TokenVerdict | undefined {
    return this.synced ? verdictOf(this.map.get(containerId), tokenVersion) : undefined;
  }

  async checkFromDatabase(containerId: string, tokenVersion: number | undefined): Promise<TokenVerdict> {
    const { rows } = await this.pool.query(
      `SELECT token_version, deleted_at IS NOT NULL AS deleted FROM onboarded_containers WHERE container_id = $1`,
      [containerId],
    );
    return verdictOf(rows[0] ? { version: rows[0].token_version, deleted: rows[0].deleted } : undefined, tokenVersion);
  }

  /** This process's own writes take effect before it answers (the NOTIFY follows a moment later). */
  apply(containerId: string, version: number, deleted: boolean): void {
    this.map.apply(containerId, version, deleted);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.connect();
    this.resync = setInterval(() => void this.reload().catch(() => undefined), this.config.auth.tokenVersionsResyncS * 1000);
    this.resync.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearInterval(this.resync);
    clearTimeout(this.reconnect);
    await this.client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.config.database.url, application_name: 'collab-token-feed' });
    client.on('notification', (n) => {
      const m = n.channel === CHANNEL && n.payload ? NOTE.exec(n.payload) : null;
      if (m) this.map.apply(m[1], Number(m[2]), m[3] === '1');
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      // LISTEN before the load: a change committed during the load arrives as a notification.
      await client.query(`LISTEN ${CHANNEL}`);
      this.client = client;
      await this.reload();
      this.synced = true;
      this.retryMs = 500;
    } catch (err) {
      this.lost(client, err as Error);
    }
  }

  private lost(client: Client, err?: Error): void {
    if (this.client && this.client !== client) return;
    this.synced = false;
    this.client = undefined;
    client.removeAllListeners('end');
    void client.end().catch(() => undefined);
    if (this.closed || this.reconnect) return;
    this.logger.warn(`token feed lost (${err?.message ?? 'connection ended'}); checking tokens against the database until it is back`);
    this.reconnect = setTimeout(() => {
      this.reconnect = undefined;
      void this.connect();
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, 30_000);
  }

  private async reload(): Promise<void> {
    const { rows } = await this.pool.query(
      `SELECT container_id::text AS id, token_version AS v, deleted_at IS NOT NULL AS d FROM onboarded_containers`,
    );
    for (const r of rows) this.map.apply(r.id, r.v, r.d);
  }
}
