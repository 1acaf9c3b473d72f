/**
 * The commits of every Stageline process on one PostgreSQL schema, heard through LISTEN on one
 * dedicated connection. Each write transaction announces the portals it touched with pg_notify,
 * which PostgreSQL delivers on commit (never for a rolled-back write) to every listener,
 * this process's own included. While the connection is down (not yet connected, dropped,
 * reconnecting, or silent past its heartbeat) the feed is not live and caches must be bypassed;
 * it reconnects by itself, and both losing and regaining it announce "anything may have changed".
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { ChangeFeed } from '../../domain/external-changes.js';

/** A notification's payload meaning every portal (a token revoked, or too many to list). */
export const EVERY_PORTAL = '*';
/** PostgreSQL refuses payloads of 8,000 bytes or more; longer lists become EVERY_PORTAL. */
const MAX_PAYLOAD = 7_000;

/** The channel of a schema: processes on other schemas of the database are not disturbed. */
export function changeChannel(schema: string | undefined): string {
  if (schema === undefined) return 'stageline_changes';
  return `stageline_changes_${createHash('sha256').update(schema).digest('hex').slice(0, 16)}`;
}

/** The payload announcing these portals (or all of them). */
export function changePayload(portals: ReadonlySet<number> | 'all'): string {
  if (portals === 'all') return EVERY_PORTAL;
  const text = [...portals].join(',');
  return text.length > MAX_PAYLOAD ? EVERY_PORTAL : text;
}

export interface ChangeFeedOptions {
  /** First delay before reconnecting, in ms; doubles on each failure up to maxRetryMs. */
  readonly retryMs: number;
  readonly maxRetryMs: number;
  /** How often the idle connection is checked with a query, in ms. */
  readonly heartbeatMs: number;
  /** How long a connect or a heartbeat may take before the connection counts as lost, in ms. */
  readonly timeoutMs: number;
}

export class PostgresChangeFeed implements ChangeFeed {
  private client: pg.Client | undefined;
  private up = false;
  private closed = false;
  private delay: number;
  private retry: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(portalId: number | undefined) => void>();

  constructor(
    private readonly config: pg.ClientConfig,
    readonly channel: string,
    private readonly options: ChangeFeedOptions,
    /**
     * Whether a notifying server process is one of this process's own connections: its commits
     * were already dropped from this process's caches, after commit, by the store's caller.
     */
    private readonly own: (serverPid: number) => boolean = () => false,
  ) {
    this.delay = options.retryMs;
  }

  live(): boolean {
    return this.up;
  }

  subscribe(listener: (portalId: number | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Connects and listens; resolves once the first attempt has succeeded or failed. */
  async start(): Promise<void> {
    await this.connect();
  }

  private emit(portalId: number | undefined): void {
    for (const listener of this.listeners) listener(portalId);
  }

  private async connect(): Promise<void> {
    this.retry = undefined;
    if (this.closed) return;
    const client = new pg.Client({
      ...this.config,
      connectionTimeoutMillis: this.options.timeoutMs,
      query_timeout: this.options.timeoutMs,
      keepAlive: true,
      // Names the channel, so an operator (or a test) can tell whose listener it is.
      application_name: `stageline ${this.channel}`,
    });
    this.client = client;
    const lost = () => this.lost(client);
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (message) => {
      if (this.client !== client || message.channel !== this.channel) return;
      if (!this.own(message.processId)) this.heard(message.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
    } catch {
      lost();
      return;
    }
    if (this.client !== client) return;
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.up = true;
    this.delay = this.options.retryMs;
    // What was cached before the connection went down may have changed meanwhile.
    this.emit(undefined);
    this.heartbeat = setInterval(() => {
      client.query('SELECT 1').catch(lost);
    }, this.options.heartbeatMs);
    this.heartbeat.unref();
  }

  private heard(payload: string | undefined): void {
    if (payload === undefined || payload === EVERY_PORTAL || payload === '') {
      this.emit(undefined);
      return;
    }
    for (const part of payload.split(',')) {
      const portalId = Number(part);
      this.emit(Number.isInteger(portalId) ? portalId : undefined);
    }
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    clearInterval(this.heartbeat);
    client.removeAllListeners('notification');
    client.end().catch(() => undefined);
    if (this.up) {
      this.up = false;
      this.emit(undefined);
    }
    if (this.closed) return;
    this.retry = setTimeout(() => void this.connect(), this.delay);
    this.retry.unref();
    this.delay = Math.min(this.delay * 2, this.options.maxRetryMs);
  }

  /** Drops the connection (it may be dead without knowing) and connects again. */
  reconnect(): void {
    if (this.client !== undefined) this.lost(this.client);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    clearInterval(this.heartbeat);
    const client = this.client;
    this.client = undefined;
    this.up = false;
    if (client !== undefined) await client.end().catch(() => undefined);
  }
}
