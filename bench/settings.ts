// The bench's command-line flags and the run lengths they set, shared by the other bench modules.
import { parseArgs } from 'node:util';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    connections: { type: 'string', default: '10' },
    'scale-portals': { type: 'string' },
    'no-scale': { type: 'boolean', default: false },
    only: { type: 'string' },
    postgres: { type: 'string' },
  },
});

export const QUICK = flags.quick;
/**
 * Seconds of load per side and scenario, split over the rounds. autocannon ends a measured run on
 * its once-a-second sample tick, so a round lasts at least a second.
 */
export const DURATION = Number(flags.duration ?? (QUICK ? 1 : 10));
export const CONNECTIONS = Number(flags.connections);
/** Each scenario runs this many rounds of Stageline and its baseline side by side, DURATION/ROUNDS each. */
export const ROUNDS = QUICK ? 1 : 5;
/** Unmeasured load per side before the rounds. */
export const WARM_UP_SECONDS = QUICK ? 0.3 : 1;
export const SCALE_PORTALS = flags['no-scale'] ? 0 : Number(flags['scale-portals'] ?? (QUICK ? 200 : 10_000));
export const POSTGRES_URL = flags.postgres;
/** `startStageline()` calls timed after the first one. */
export const REPEATED_STARTS = QUICK ? 5 : 20;
/** `stageline serve` spawns timed, and as many of the baseline server. */
export const SPAWNS = QUICK ? 3 : 7;
/** New portals whose first request is timed. */
export const NEW_PORTALS = QUICK ? 20 : 50;

/** The repository's root, as a path. */
export const ROOT = new URL('..', import.meta.url).pathname;

/** `--only <text>`: just the scenarios and figures whose name contains it, on every database. */
export const chosen = (s: { name: string }): boolean =>
  flags.only === undefined || s.name.includes(flags.only);
