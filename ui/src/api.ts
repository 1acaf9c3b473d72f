/**
 * The board's only way to the server: the public API, and the emulator control plane under
 * `/_stageline` where that is on, same origin, with the user's token in the Authorization header
 * (never in a URL).
 */
import type { ClockState, Fault, FaultSpec, JournalEntry } from './emulator.js';
import type { AuditEntry, CrmRecord, ObjectTypeInfo, Owner, Pipeline, Stage } from './model.js';

/** A refused call, carrying HubSpot's error envelope: its message is what the user sees. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly category: string | undefined,
    readonly subCategory: string | undefined,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

interface Envelope {
  message?: unknown;
  category?: unknown;
  subCategory?: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Deletes ask the server to refuse when records still sit in the stages they would remove. */
const CHECKED = '?validateReferencesBeforeDelete=true';

const RECORD_PAGE = 100;
const OWNERS = '/crm/v3/owners?limit=100';

interface Paged<T> {
  results: T[];
  paging?: { next?: { after: string } };
}
const CONTROL = '/_stageline';

/** A page of records and the cursor of the next one. */
export interface RecordPage {
  records: CrmRecord[];
  after: string | undefined;
}

/** What a signed-in tab reads before its first render (see `Api.preload`). */
export interface Preloaded {
  token: string;
  type: string;
  pipelines: Pipeline[];
  owners: Owner[];
  first: RecordPage;
}

export class Api {
  constructor(private readonly token: string) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.send(method, path, body);
    const text = await res.text();
    const parsed: unknown = text === '' ? undefined : safeJson(text);
    if (!res.ok) {
      const e = (parsed ?? {}) as Envelope;
      throw new ApiError(
        res.status,
        str(e.message) ?? `${method} ${path} failed with ${res.status}`,
        str(e.category),
        str(e.subCategory),
      );
    }
    return parsed as T;
  }

  private send(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.token}`,
      accept: 'application/json',
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
    });
  }

  /**
   * A board's first reads (pipelines, owners, the first page of records), together: a tab that
   * is signed in already renders its board once, with them, instead of rendering empty first.
   */
  async preload(type: ObjectTypeInfo, properties: readonly string[]): Promise<Preloaded> {
    const [pipelines, owners, first] = await Promise.all([
      this.pipelines(type.name),
      this.owners().catch(() => []),
      this.recordPage(type, properties, undefined),
    ]);
    return { token: this.token, type: type.name, pipelines, owners, first };
  }

  private recordsPath(
    type: ObjectTypeInfo,
    properties: readonly string[],
    after: string | undefined,
  ): string {
    const query = `limit=${RECORD_PAGE}&properties=${properties.map(encodeURIComponent).join(',')}`;
    return `/crm/v3/objects/${type.name}?${query}${after === undefined ? '' : `&after=${encodeURIComponent(after)}`}`;
  }

  account(): Promise<{ portalId: number }> {
    return this.call('GET', '/account-info/v3/details');
  }

  /** Every owner of the portal, page after page. */
  async owners(): Promise<Owner[]> {
    const all: Owner[] = [];
    let after: string | undefined;
    do {
      const query = after === undefined ? '' : `&after=${encodeURIComponent(after)}`;
      const page = await this.call<Paged<Owner>>('GET', `${OWNERS}${query}`);
      all.push(...page.results);
      after = page.paging?.next?.after;
    } while (after !== undefined);
    return all;
  }

  async pipelines(type: string): Promise<Pipeline[]> {
    return (await this.call<{ results: Pipeline[] }>('GET', `/crm/v3/pipelines/${type}`)).results;
  }

  pipeline(type: string, id: string): Promise<Pipeline> {
    return this.call('GET', `/crm/v3/pipelines/${type}/${id}`);
  }

  createPipeline(type: string, body: unknown): Promise<Pipeline> {
    return this.call('POST', `/crm/v3/pipelines/${type}`, body);
  }

  patchPipeline(type: string, id: string, body: Record<string, unknown>): Promise<Pipeline> {
    return this.call('PATCH', `/crm/v3/pipelines/${type}/${id}`, body);
  }

  archivePipeline(type: string, id: string): Promise<void> {
    return this.call('DELETE', `/crm/v3/pipelines/${type}/${id}${CHECKED}`);
  }

  createStage(type: string, pipelineId: string, body: unknown): Promise<Stage> {
    return this.call('POST', `/crm/v3/pipelines/${type}/${pipelineId}/stages`, body);
  }

  patchStage(type: string, pipelineId: string, id: string, body: Record<string, unknown>): Promise<Stage> {
    return this.call('PATCH', `/crm/v3/pipelines/${type}/${pipelineId}/stages/${id}`, body);
  }

  archiveStage(type: string, pipelineId: string, id: string): Promise<void> {
    return this.call('DELETE', `/crm/v3/pipelines/${type}/${pipelineId}/stages/${id}${CHECKED}`);
  }

  async pipelineAudit(type: string, id: string): Promise<AuditEntry[]> {
    return (await this.call<{ results: AuditEntry[] }>('GET', `/crm/v3/pipelines/${type}/${id}/audit`))
      .results;
  }

  async stageAudit(type: string, pipelineId: string, id: string): Promise<AuditEntry[]> {
    const path = `/crm/v3/pipelines/${type}/${pipelineId}/stages/${id}/audit`;
    return (await this.call<{ results: AuditEntry[] }>('GET', path)).results;
  }

  async recordPage(
    type: ObjectTypeInfo,
    properties: readonly string[],
    after: string | undefined,
  ): Promise<RecordPage> {
    const page = await this.call<Paged<CrmRecord>>('GET', this.recordsPath(type, properties, after));
    return { records: page.results, after: page.paging?.next?.after };
  }

  /**
   * Every live record of the type, page after page, with the properties a card shows, going on
   * from `from` when given; `onPage` sees the records so far after each page but the last (the
   * same array, growing), and the next page is asked for once what it returns has settled.
   */
  async records(
    type: ObjectTypeInfo,
    properties: readonly string[],
    onPage?: (soFar: readonly CrmRecord[]) => void | Promise<void>,
    from?: RecordPage,
  ): Promise<CrmRecord[]> {
    const all: CrmRecord[] = [...(from?.records ?? [])];
    let page = from ?? (await this.recordPage(type, properties, undefined));
    if (from === undefined) all.push(...page.records);
    while (page.after !== undefined) {
      await onPage?.(all);
      page = await this.recordPage(type, properties, page.after);
      all.push(...page.records);
    }
    return all;
  }

  record(type: string, id: string, properties: readonly string[]): Promise<CrmRecord> {
    return this.call(
      'GET',
      `/crm/v3/objects/${type}/${id}?properties=${properties.map(encodeURIComponent).join(',')}`,
    );
  }

  updateRecord(type: string, id: string, properties: Record<string, string>): Promise<CrmRecord> {
    return this.call('PATCH', `/crm/v3/objects/${type}/${id}`, { properties });
  }

  // ----- the emulator control plane -----

  /**
   * Whether this token may use the control plane: its clock answers. A server without it answers
   * 404, a token without the admin scope 403; a network failure counts as off too.
   */
  async controlPlaneOn(): Promise<boolean> {
    try {
      const res = await this.send('GET', `${CONTROL}/clock`);
      await res.body?.cancel();
      return res.ok;
    } catch {
      return false;
    }
  }

  /** The journal, newest first, filtered by `query` (see `journalQuery`). */
  async journal(query: string): Promise<JournalEntry[]> {
    return (await this.call<{ results: JournalEntry[] }>('GET', `${CONTROL}/requests?${query}`)).results;
  }

  clearJournal(): Promise<void> {
    return this.call('DELETE', `${CONTROL}/requests`);
  }

  async faults(): Promise<Fault[]> {
    return (await this.call<{ results: Fault[] }>('GET', `${CONTROL}/faults`)).results;
  }

  addFault(spec: FaultSpec): Promise<Fault> {
    return this.call('POST', `${CONTROL}/faults`, spec);
  }

  /** Removes one fault, or every fault of the portal without an id. */
  removeFault(id?: string): Promise<void> {
    return this.call('DELETE', `${CONTROL}/faults${id === undefined ? '' : `/${encodeURIComponent(id)}`}`);
  }

  clock(): Promise<ClockState> {
    return this.call('GET', `${CONTROL}/clock`);
  }

  /** Freezes (`now`), advances (`advanceMs`) or releases (`mode: 'system'`) the portal's clock. */
  setClock(change: { now: string } | { advanceMs: number } | { mode: 'system' }): Promise<ClockState> {
    return this.call('PUT', `${CONTROL}/clock`, change);
  }

  resetPortal(): Promise<void> {
    return this.call('POST', `${CONTROL}/reset`);
  }

  snapshot(): Promise<unknown> {
    return this.call('GET', `${CONTROL}/snapshot`);
  }

  restoreSnapshot(snapshot: unknown): Promise<void> {
    return this.call('PUT', `${CONTROL}/snapshot`, snapshot);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The error text a person sees for any failure. */
export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));
