/**
 * The emulator panel's pure parts: the shapes the control plane answers, the journal filter as a
 * query string, and the fault form turned into a fault (or the reason it cannot be one).
 */

export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

export interface ClockState {
  mode: 'system' | 'frozen';
  /** ISO-8601. */
  now: string;
}

export interface FaultSpec {
  method?: string;
  path: string;
  status?: number;
  delayMs?: number;
  /** null: every matching request until removed. */
  times?: number | null;
}

export interface Fault extends FaultSpec {
  id: string;
  remaining: number | null;
  applied: number;
}

export interface JournalEntry {
  method: string;
  path: string;
  /** null when the connection was dropped. */
  status: number | null;
  durationMs: number;
  at: string;
  correlationId: string;
  fault: { id: string; status?: number; delayMs?: number; drop?: boolean } | null;
}

/** The journal filter as the form holds it: empty fields filter nothing. */
export interface JournalFilter {
  method: string;
  path: string;
  status: string;
}

export const NO_FILTER: JournalFilter = { method: '', path: '', status: '' };

/** How many of the newest entries the panel shows. */
export const JOURNAL_LIMIT = 50;

/**
 * The journal's query string for a filter; a path is sent with its leading slash, a status only
 * when it is a whole number between 100 and 599 (anything else filters nothing yet).
 */
export function journalQuery(filter: JournalFilter, limit = JOURNAL_LIMIT): string {
  const params = new URLSearchParams();
  const method = filter.method.trim().toUpperCase();
  if (method !== '') params.set('method', method);
  const path = filter.path.trim();
  if (path !== '') params.set('path', path.startsWith('/') ? path : `/${path}`);
  const status = filter.status.trim();
  if (/^[1-5]\d\d$/.test(status)) params.set('status', status);
  params.set('limit', String(limit));
  return params.toString();
}

/** The fault form's fields, as typed. */
export interface FaultDraft {
  method: string;
  path: string;
  status: string;
  /** Empty: every matching request until removed. */
  times: string;
  delayMs: string;
}

export const EMPTY_FAULT: FaultDraft = { method: '', path: '', status: '503', times: '1', delayMs: '' };

const whole = (text: string): number | undefined => (/^\d+$/.test(text) ? Number(text) : undefined);

/** The fault a draft asks for, or the message saying what is wrong with it. */
export function faultFromDraft(draft: FaultDraft): { spec: FaultSpec } | { error: string } {
  const path = draft.path.trim();
  if (!path.startsWith('/')) return { error: 'The path must start with /' };
  const spec: FaultSpec = { path };
  const method = draft.method.trim().toUpperCase();
  if (method !== '') {
    if (!(METHODS as readonly string[]).includes(method)) return { error: `Unknown method ${method}` };
    spec.method = method;
  }
  const statusText = draft.status.trim();
  if (statusText !== '') {
    const status = whole(statusText);
    if (status === undefined || status < 200 || status > 599)
      return { error: 'The status must be a number from 200 to 599' };
    spec.status = status;
  }
  const delayText = draft.delayMs.trim();
  if (delayText !== '') {
    const delayMs = whole(delayText);
    if (delayMs === undefined || delayMs > 120_000)
      return { error: 'The delay must be a number of milliseconds up to 120000' };
    spec.delayMs = delayMs;
  }
  if (spec.status === undefined && spec.delayMs === undefined)
    return { error: 'Give a status, or a delay alone for a slow answer' };
  const timesText = draft.times.trim();
  if (timesText === '') spec.times = null;
  else {
    const times = whole(timesText);
    if (times === undefined || times < 1) return { error: 'Times must be a whole number from 1' };
    spec.times = times;
  }
  return { spec };
}

/** A fault in a few words: "503 on POST /crm/v3/pipelines/deals, 1 left". */
export function describeFault(fault: Fault): string {
  const what = [
    fault.status === undefined ? undefined : String(fault.status),
    fault.delayMs === undefined ? undefined : `after ${fault.delayMs} ms`,
  ]
    .filter((x) => x !== undefined)
    .join(' ');
  const left = fault.remaining === null ? 'until removed' : `${fault.remaining} left`;
  return `${what} on ${fault.method ?? 'any method'} ${fault.path}, ${left}`;
}

/** The name a downloaded snapshot is saved under: the portal and the time, safe for any file system. */
export function snapshotFileName(portalId: number | undefined, at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
  return `stageline-portal-${portalId ?? 'unknown'}-${stamp}.json`;
}
