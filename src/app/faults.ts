/**
 * Injected faults, per portal: a request that matches one is answered with the fault's status
 * and body (HubSpot's, by default), delayed, or dropped, instead of reaching its route.
 */

export type PolicyName = 'TEN_SECONDLY_ROLLING' | 'SECONDLY' | 'DAILY';

export interface FaultSpec {
  /** Any method when absent. */
  readonly method?: string;
  /**
   * A path such as `/crm/v3/pipelines/deals/default`, which also matches every path below it,
   * or a route pattern: `*` or `:name` stands for one segment, a final `*` for the rest.
   */
  readonly path: string;
  /** The status to answer with; absent with `delayMs` alone: the request goes on, late. */
  readonly status?: number;
  /** The body; absent: HubSpot's body for the status. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Wait this long first. */
  readonly delayMs?: number;
  /** How many matching requests it applies to (default 1); null: every one, until removed. */
  readonly times?: number | null;
  /** The chance it applies to a matching request (default 1), drawn from a seeded generator. */
  readonly probability?: number;
  /** Seeds the generator of `probability` (default 1): the same seed gives the same draws. */
  readonly seed?: number;
  /** Destroy the connection instead of answering, as a network failure would. */
  readonly drop?: boolean;
  /** For a 429 with HubSpot's body: which limit was hit (default TEN_SECONDLY_ROLLING). */
  readonly policyName?: PolicyName;
}

export interface Fault extends FaultSpec {
  readonly id: string;
  /** Applications left; null: no limit. */
  readonly remaining: number | null;
  /** How many requests it has applied to. */
  readonly applied: number;
}

/** A small, fast, seedable generator (mulberry32): the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const escapeRegExp = (text: string): string => text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

/** The path pattern as a regular expression over request paths (without the query). */
export function pathPattern(path: string): RegExp {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
  const segments = trimmed.split('/');
  const last = segments[segments.length - 1];
  const rest = last === '*' || last === '**';
  if (rest) segments.pop();
  const body = segments
    .map((s) => (s === '*' || /^:[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? '[^/]+' : escapeRegExp(s)))
    .join('/');
  // A final `*`: one segment or more below; a plain path: itself, or anything below it.
  return new RegExp(`^${body}${rest ? '/.+' : '(?:/.*)?'}$`);
}

interface Entry {
  fault: Fault;
  readonly method: string | undefined;
  readonly pattern: RegExp;
  readonly random: () => number;
}

export class FaultRegistry {
  private readonly portals = new Map<number, Entry[]>();
  private nextId = 1;

  add(portalId: number, spec: FaultSpec): Fault {
    const fault: Fault = {
      ...spec,
      id: String(this.nextId++),
      remaining: spec.times === null ? null : (spec.times ?? 1),
      applied: 0,
    };
    const list = this.portals.get(portalId) ?? [];
    list.push({
      fault,
      method: spec.method?.toUpperCase(),
      pattern: pathPattern(spec.path),
      random: seededRandom(spec.seed ?? 1),
    });
    this.portals.set(portalId, list);
    return fault;
  }

  list(portalId: number): Fault[] {
    return (this.portals.get(portalId) ?? []).map((e) => e.fault);
  }

  /** Removes one fault, or all of the portal's; true when something was removed. */
  remove(portalId: number, id?: string): boolean {
    const list = this.portals.get(portalId);
    if (list === undefined) return false;
    if (id === undefined) {
      this.portals.delete(portalId);
      return list.length > 0;
    }
    const index = list.findIndex((e) => e.fault.id === id);
    if (index < 0) return false;
    list.splice(index, 1);
    if (list.length === 0) this.portals.delete(portalId);
    return true;
  }

  /** Whether the portal has any fault: the common case, none, costs one map lookup. */
  has(portalId: number): boolean {
    return this.portals.has(portalId);
  }

  /**
   * The first fault that matches the request and wins its draw, counted as applied (and gone
   * once it has no applications left); undefined when none applies.
   */
  take(portalId: number, method: string, path: string): Fault | undefined {
    const list = this.portals.get(portalId);
    if (list === undefined) return undefined;
    for (const entry of list) {
      if (entry.method !== undefined && entry.method !== method) continue;
      if (!entry.pattern.test(path)) continue;
      const probability = entry.fault.probability ?? 1;
      if (probability < 1 && entry.random() >= probability) continue;
      const { remaining } = entry.fault;
      entry.fault = {
        ...entry.fault,
        remaining: remaining === null ? null : remaining - 1,
        applied: entry.fault.applied + 1,
      };
      if (entry.fault.remaining === 0) this.remove(portalId, entry.fault.id);
      return entry.fault;
    }
    return undefined;
  }
}
