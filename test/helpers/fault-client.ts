// The HTTP side of the fault tests: requests to real `stageline serve` processes, every answer
// recorded with its timing, hangs and refused connections recorded as problems, and the check
// that an error answer is HubSpot's 503 envelope in time.

import { answerBody, bearerFetch } from './bearer-fetch.js';
import type { ServeProcess } from './cli-process.js';
import type { WireError } from './wire-types.js';

const JSON_TYPE = 'application/json;charset=utf-8';

export interface Answer {
  server: number;
  what: string;
  status: number;
  body: unknown;
  retryAfter: string | null;
  contentType: string | null;
  /** performance.now() when sent and when answered. */
  sentAt: number;
  answeredAt: number;
}

/** The log lines of a process that report an unhandled error (a 500) or a fatal one (a crash). */
export function unhandledErrors(server: ServeProcess): string[] {
  return server
    .stdout()
    .split('\n')
    .filter((line) => {
      if (!line.startsWith('{')) return false;
      try {
        const entry = JSON.parse(line) as { level?: number; msg?: string };
        return entry.msg === 'unhandled error' || (entry.level ?? 0) >= 60;
      } catch {
        return false; // a line cut short by the end of the output
      }
    });
}

export const is2xx = (a: Answer): boolean => a.status >= 200 && a.status < 300;
export const ok = (a: Answer | undefined): a is Answer => a !== undefined && is2xx(a);

export class FaultClient {
  readonly answers: Answer[] = [];
  readonly problems: string[] = [];

  constructor(
    private readonly servers: readonly ServeProcess[],
    private readonly token: string,
    /** A request unanswered after this counts as a hang. */
    private readonly hangMs = 10_000,
  ) {}

  /** One request to process `server`; a hang or a connection error is recorded as a problem. */
  async send(
    server: number,
    what: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<Answer | undefined> {
    const sentAt = performance.now();
    try {
      const res = await bearerFetch(`${this.servers[server]!.url}${path}`, this.token, method, body, {
        signal: AbortSignal.timeout(this.hangMs),
      });
      const parsed = await answerBody(res);
      const answer: Answer = {
        server,
        what,
        status: res.status,
        body: parsed,
        retryAfter: res.headers.get('retry-after'),
        contentType: res.headers.get('content-type'),
        sentAt,
        answeredAt: performance.now(),
      };
      this.answers.push(answer);
      return answer;
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      this.problems.push(
        `${what} on #${server}: no answer after ${(performance.now() - sentAt).toFixed(0)} ms (${cause})`,
      );
      return undefined;
    }
  }

  /** A GET that must answer 200; its body. */
  async get<T>(server: number, path: string): Promise<T> {
    const a = await this.send(server, `GET ${path}`, 'GET', path);
    if (a === undefined || a.status !== 200)
      throw new Error(`GET ${path} on #${server}: ${a?.status} ${JSON.stringify(a?.body)}`);
    return a.body as T;
  }

  /**
   * Records as problems the answers that are neither a 2xx nor HubSpot's 503 envelope (status
   * "error", category SERVICE_UNAVAILABLE, a message, a correlation id, Retry-After) within
   * `boundMs(answer)`. Returns the 503s.
   */
  checkErrors(boundMs: (a: Answer) => number): Answer[] {
    const unavailable: Answer[] = [];
    for (const a of this.answers) {
      if (is2xx(a)) continue;
      const show = `${a.what} on #${a.server} → ${a.status} ${JSON.stringify(a.body)}`;
      if (a.status !== 503) {
        this.problems.push(`not a 2xx or a 503: ${show}`);
        continue;
      }
      unavailable.push(a);
      const e = a.body as WireError;
      if (a.contentType !== JSON_TYPE || e.status !== 'error' || e.category !== 'SERVICE_UNAVAILABLE')
        this.problems.push(`not HubSpot's 503 envelope: ${show} (${a.contentType})`);
      else if (typeof e.message !== 'string' || e.message === '' || typeof e.correlationId !== 'string')
        this.problems.push(`503 without a message or correlation id: ${show}`);
      if (a.retryAfter === null) this.problems.push(`503 without Retry-After: ${show}`);
      const ms = a.answeredAt - a.sentAt;
      if (ms > boundMs(a))
        this.problems.push(`503 after ${ms.toFixed(0)} ms (bound ${boundMs(a)} ms): ${show}`);
    }
    return unavailable;
  }

  /** Waits until process `server` has answered a write sent after `since` with a 2xx; ms after `since`. */
  async recovered(server: number, since: number, boundMs: number): Promise<number> {
    for (;;) {
      const first = this.answers.find(
        (a) => a.server === server && a.sentAt >= since && is2xx(a) && !a.what.startsWith('GET'),
      );
      if (first) return first.answeredAt - since;
      if (performance.now() - since > boundMs)
        throw new Error(`process #${server} answered no write with a 2xx within ${boundMs} ms`);
      await new Promise((done) => setTimeout(done, 20));
    }
  }
}
