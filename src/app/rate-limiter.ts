/**
 * HubSpot's API rate limits, per access token: a rolling ten-second window and a daily budget
 * (reset at midnight UTC). One process keeps its counts in memory; processes sharing a PostgreSQL
 * database keep them there, so that together they admit exactly what one would.
 */
import type { RateCount, RateTake } from '../domain/ports.js';
import type { Clock } from '../domain/time.js';

export interface RateLimitPolicy {
  /** Requests allowed in any rolling ten seconds. */
  readonly perTenSeconds: number;
  /** Requests allowed per UTC day. */
  readonly daily: number;
}

/** HubSpot's numbers for a private app on a Free or Starter portal. */
export const HUBSPOT_POLICY: RateLimitPolicy = Object.freeze({ perTenSeconds: 100, daily: 250_000 });

export const WINDOW_MS = 10_000;
const DAY_MS = 86_400_000;
/**
 * Tokens whose counts one process keeps. Past it, those idle for a whole window are forgotten
 * (their daily count starts over), then, if that was not enough, the oldest tenth.
 */
export const MAX_TRACKED_TOKENS = 100_000;

/** `off`, `hubspot`, or `<n>/10s` (with HubSpot's daily budget); null means off. */
export function parseRateLimit(setting: string): RateLimitPolicy | null {
  if (setting === 'off') return null;
  if (setting === 'hubspot') return HUBSPOT_POLICY;
  const m = /^([1-9][0-9]{0,8})\/10s$/.exec(setting);
  if (m) return Object.freeze({ perTenSeconds: Number(m[1]), daily: HUBSPOT_POLICY.daily });
  throw new RangeError(`Invalid rate limit: ${setting} (expected off, hubspot or <n>/10s)`);
}

/** `exceeded` is null when the request may go ahead; otherwise the policy it broke. */
export type RateDecision = RateCount;

interface Usage {
  /** Times of the requests admitted in the current window, oldest first. */
  readonly recent: number[];
  day: number;
  dailyCount: number;
}

/** What the API's guard asks: the in-memory limiter, or the one counting in the database. */
export interface RateLimits {
  readonly policy: RateLimitPolicy;
  take(key: string, portalId: number): RateDecision | Promise<RateDecision>;
}

export class RateLimiter implements RateLimits {
  private readonly usage = new Map<string, Usage>();

  constructor(
    readonly policy: RateLimitPolicy,
    private readonly clock: Clock,
  ) {}

  /** Counts a request of `key` (a token of the portal) if the limits allow it, by the portal's clock. */
  take(key: string, portalId: number): RateDecision {
    const now = this.clock(portalId);
    const day = Math.floor(now / DAY_MS);
    let u = this.usage.get(key);
    if (u === undefined) {
      if (this.usage.size >= MAX_TRACKED_TOKENS) this.forget(now);
      u = { recent: [], day, dailyCount: 0 };
      this.usage.set(key, u);
    }
    if (u.day !== day) {
      u.day = day;
      u.dailyCount = 0;
    }
    while (u.recent.length > 0 && u.recent[0]! <= now - WINDOW_MS) u.recent.shift();
    const exceeded =
      u.dailyCount >= this.policy.daily
        ? 'DAILY'
        : u.recent.length >= this.policy.perTenSeconds
          ? 'TEN_SECONDLY_ROLLING'
          : null;
    if (exceeded === null) {
      u.recent.push(now);
      u.dailyCount += 1;
    }
    return {
      exceeded,
      remaining: this.policy.perTenSeconds - u.recent.length,
      dailyRemaining: this.policy.daily - u.dailyCount,
    };
  }

  /** Makes room for new tokens: the idle ones go, then the oldest until a tenth is free. */
  private forget(now: number): void {
    for (const [key, u] of this.usage) {
      const last = u.recent[u.recent.length - 1];
      if (last === undefined || last <= now - WINDOW_MS) this.usage.delete(key);
    }
    for (const key of this.usage.keys()) {
      if (this.usage.size < MAX_TRACKED_TOKENS * 0.9) break;
      this.usage.delete(key);
    }
  }

  /** How many tokens have counts kept. */
  get trackedTokens(): number {
    return this.usage.size;
  }
}

/**
 * The same limits, counted by the store for every process sharing it: one call per request,
 * with the portal's time and day computed here (the control plane may have set its clock).
 */
export class SharedRateLimiter implements RateLimits {
  constructor(
    readonly policy: RateLimitPolicy,
    private readonly clock: Clock,
    private readonly counts: (take: RateTake) => Promise<RateCount>,
  ) {}

  take(key: string, portalId: number): Promise<RateDecision> {
    const now = this.clock(portalId);
    const { perTenSeconds, daily } = this.policy;
    return this.counts({
      key,
      now,
      day: Math.floor(now / DAY_MS),
      windowMs: WINDOW_MS,
      perWindow: perTenSeconds,
      daily,
    });
  }
}
