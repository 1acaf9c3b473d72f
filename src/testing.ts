/**
 * Typed helpers over the control plane's HTTP API, for test suites: the same against an
 * in-process `startStageline()` and a separate `stageline serve` (`connectStageline(url)`).
 *
 *   const hubspot = connectStageline(process.env.STAGELINE_URL).portal('my-test-token');
 *   await hubspot.reset();
 *   await hubspot.faults.add({ path: '/crm/v3/pipelines/deals', status: 429 });
 */
import type { Fault, FaultSpec } from './app/faults.js';
import type { JournalEntry } from './app/journal.js';
import type { ClockState } from './app/portal-clocks.js';
import type { SeedDocument } from './seed/seed-document.js';

export type { Fault, FaultSpec, JournalEntry, ClockState, SeedDocument };

/** Which journal entries to return, newest first. */
export interface RequestFilter {
  readonly method?: string;
  /** A path, or a route pattern such as `/crm/v3/pipelines/deals/*`. */
  readonly path?: string;
  readonly status?: number;
  readonly limit?: number;
}

/** The control plane of one portal: the one the token opens. */
export interface PortalControl {
  readonly token: string;
  /** Back to the starting state (the seed or HubSpot's defaults): audit emptied, ids restarting. */
  reset(): Promise<void>;
  /** Replaces the pipelines and records of the types the document lists; reset returns to it. */
  seed(doc: SeedDocument): Promise<void>;
  snapshot(): Promise<SeedDocument>;
  restore(doc: SeedDocument): Promise<void>;
  readonly clock: {
    get(): Promise<ClockState>;
    freeze(at: Date | string | number): Promise<ClockState>;
    /** Moves a frozen clock on. */
    advance(ms: number): Promise<ClockState>;
    system(): Promise<ClockState>;
  };
  readonly faults: {
    add(spec: FaultSpec): Promise<Fault>;
    list(): Promise<Fault[]>;
    remove(id: string): Promise<void>;
    clear(): Promise<void>;
  };
  /** What the portal's clients sent and got, newest first. */
  requests(filter?: RequestFilter): Promise<JournalEntry[]>;
  clearRequests(): Promise<void>;
}

export interface StagelineConnection {
  readonly url: string;
  portal(token: string): PortalControl;
}

/** A control-plane call that did not succeed: its status and HubSpot-style error body. */
export class StagelineControlError extends Error {
  override readonly name = 'StagelineControlError';
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    const message = (body as { message?: unknown } | null)?.message;
    super(`Stageline control plane answered ${status}${typeof message === 'string' ? `: ${message}` : ''}`);
  }
}

function portalControl(base: string, token: string): PortalControl {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${base}/_stageline${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const parsed: unknown = text === '' ? undefined : JSON.parse(text);
    if (!response.ok) throw new StagelineControlError(response.status, parsed);
    return parsed as T;
  };
  const clock = (body: unknown) => call<ClockState>('PUT', '/clock', body);
  return {
    token,
    reset: () => call('POST', '/reset'),
    seed: (doc) => call('PUT', '/seed', doc),
    snapshot: () => call('GET', '/snapshot'),
    restore: (doc) => call('PUT', '/snapshot', doc),
    clock: {
      get: () => call('GET', '/clock'),
      freeze: (at) => clock({ now: new Date(at).toISOString() }),
      advance: (ms) => clock({ advanceMs: ms }),
      system: () => clock({ mode: 'system' }),
    },
    faults: {
      add: (spec) => call('POST', '/faults', spec),
      list: async () => (await call<{ results: Fault[] }>('GET', '/faults')).results,
      remove: (id) => call('DELETE', `/faults/${encodeURIComponent(id)}`),
      clear: () => call('DELETE', '/faults'),
    },
    requests: async (filter = {}) => {
      const query = new URLSearchParams(
        Object.entries(filter).flatMap(([k, v]): [string, string][] =>
          v === undefined ? [] : [[k, String(v)]],
        ),
      ).toString();
      const answer = await call<{ results: JournalEntry[] }>('GET', `/requests${query ? `?${query}` : ''}`);
      return answer.results;
    },
    clearRequests: () => call('DELETE', '/requests'),
  };
}

/** The control plane of a running Stageline (by default the one `stageline exec` started). */
export function connectStageline(url: string | undefined = process.env.STAGELINE_URL): StagelineConnection {
  if (url === undefined || url === '') {
    throw new Error('connectStageline needs a URL (or STAGELINE_URL, which `stageline exec` sets)');
  }
  const base = url.replace(/\/+$/, '');
  return { url: base, portal: (token) => portalControl(base, token) };
}
