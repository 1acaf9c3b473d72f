/**
 * The request journal: what each portal's clients sent and what they were answered, newest
 * first, in a bounded ring per portal. Entries keep references to what the request already
 * holds; the response body is decoded and cut only when the journal is read.
 */
import { gunzipSync } from 'node:zlib';

/** Response bodies are cut at this many characters when read. */
export const RESPONSE_BODY_LIMIT = 64 * 1024;

export const DEFAULT_JOURNAL_SIZE = 1000;

/**
 * Portals whose requests are kept: past this many, the portal journaled least recently is
 * forgotten, so that a stream of distinct tokens (open mode) cannot grow the journal without end.
 */
export const MAX_JOURNAL_PORTALS = 1000;

export interface JournalFault {
  readonly id: string;
  readonly status?: number;
  readonly delayMs?: number;
  readonly drop?: boolean;
}

/**
 * One request as recorded: references to what the request holds, turned into an entry (path
 * split from the query, `authorization` left out) only when the journal is read.
 */
export interface JournalRecord {
  readonly method: string;
  /** With its query string. */
  readonly url: string;
  readonly query: Readonly<Record<string, unknown>>;
  /** As received: `authorization` is left out when the journal is read. */
  readonly headers: Readonly<Record<string, unknown>>;
  readonly body: unknown;
  /** null when the connection was dropped. */
  readonly status: number | null;
  /** The payload as sent (gzipped when `gzip`); undefined when there was none. */
  readonly response: string | Buffer | undefined;
  readonly gzip: boolean;
  readonly durationMs: number;
  readonly at: number;
  readonly correlationId: string;
  readonly fault: JournalFault | null;
}

/** One entry as the journal endpoint answers it. */
export interface JournalEntry extends Omit<JournalRecord, 'url' | 'response' | 'gzip' | 'at'> {
  readonly path: string;
  readonly at: string;
  readonly responseBody: unknown;
  readonly responseTruncated: boolean;
}

export interface JournalFilter {
  readonly method?: string;
  /** A path pattern, as faults take them. */
  readonly path?: RegExp;
  readonly status?: number;
  readonly limit?: number;
}

/** A portal's requests: grows up to the journal's size, then the oldest is overwritten. */
class Ring {
  readonly items: JournalRecord[] = [];
  next = 0;
}

function responseBody(record: JournalRecord): { body: unknown; truncated: boolean } {
  if (record.response === undefined) return { body: null, truncated: false };
  const text =
    typeof record.response === 'string'
      ? record.response
      : (record.gzip ? gunzipSync(record.response) : record.response).toString('utf8');
  if (text.length > RESPONSE_BODY_LIMIT) return { body: text.slice(0, RESPONSE_BODY_LIMIT), truncated: true };
  try {
    return { body: text === '' ? null : (JSON.parse(text) as unknown), truncated: false };
  } catch {
    return { body: text, truncated: false };
  }
}

export class Journal {
  private readonly portals = new Map<number, Ring>();
  private lastPortal: number | undefined;

  constructor(readonly size: number = DEFAULT_JOURNAL_SIZE) {}

  add(portalId: number, record: JournalRecord): void {
    let ring = this.portals.get(portalId);
    // The map's order is the order portals were last journaled in: the first is forgotten first.
    // A portal journaled last already stands last (a test suite's requests come in runs).
    if (ring === undefined) {
      if (this.portals.size >= MAX_JOURNAL_PORTALS) this.portals.delete(this.portals.keys().next().value!);
      ring = new Ring();
      this.portals.set(portalId, ring);
    } else if (this.lastPortal !== portalId) {
      this.portals.delete(portalId);
      this.portals.set(portalId, ring);
    }
    this.lastPortal = portalId;
    ring.items[ring.next] = record;
    ring.next = (ring.next + 1) % this.size;
  }

  /** How many portals have requests kept. */
  get portalCount(): number {
    return this.portals.size;
  }

  clear(portalId: number): void {
    this.portals.delete(portalId);
  }

  /** Newest first. */
  list(portalId: number, filter: JournalFilter = {}): JournalEntry[] {
    const ring = this.portals.get(portalId);
    const out: JournalEntry[] = [];
    if (ring === undefined) return out;
    const limit = filter.limit ?? this.size;
    for (let i = 1; i <= this.size && out.length < limit; i++) {
      const record = ring.items[(ring.next - i + this.size) % this.size];
      if (record === undefined) break;
      const path = record.url.split('?')[0]!;
      if (filter.method !== undefined && record.method !== filter.method) continue;
      if (filter.path !== undefined && !filter.path.test(path)) continue;
      if (filter.status !== undefined && record.status !== filter.status) continue;
      const { response: _response, gzip: _gzip, url: _url, at, headers, method, ...rest } = record;
      const { authorization: _authorization, ...sent } = headers;
      const { body, truncated } = responseBody(record);
      out.push({
        method,
        path,
        ...rest,
        headers: sent,
        at: new Date(at).toISOString(),
        responseBody: body,
        responseTruncated: truncated,
      });
    }
    return out;
  }
}
