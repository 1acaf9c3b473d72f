/**
 * Each portal's clock: the system's, or frozen at a time the portal's tests chose and moved on
 * by hand. It drives what the portal's writes stamp and its rate-limit windows.
 */
import { invalid } from '../domain/errors.js';

export interface ClockState {
  readonly mode: 'system' | 'frozen';
  /** ISO-8601. */
  readonly now: string;
}

export class PortalClocks {
  private readonly frozen = new Map<number, number>();

  constructor(private readonly system: () => number) {}

  /** The portal's time, in epoch milliseconds. */
  readonly now = (portalId: number): number => this.frozen.get(portalId) ?? this.system();

  freeze(portalId: number, at: number): void {
    this.frozen.set(portalId, at);
  }

  /** Moves a frozen clock on; a clock that follows the system's cannot be moved. */
  advance(portalId: number, ms: number): void {
    const at = this.frozen.get(portalId);
    if (at === undefined) {
      throw invalid('advanceMs needs a frozen clock: freeze it first with {"now": "<ISO time>"}', {
        errors: [{ message: 'the clock is not frozen', in: 'advanceMs', code: 'INVALID_VALUE' }],
      });
    }
    this.frozen.set(portalId, at + ms);
  }

  useSystem(portalId: number): void {
    this.frozen.delete(portalId);
  }

  state(portalId: number): ClockState {
    return {
      mode: this.frozen.has(portalId) ? 'frozen' : 'system',
      now: new Date(this.now(portalId)).toISOString(),
    };
  }
}
