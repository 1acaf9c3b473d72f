// CPU time per request, from /proc (Linux): the server's own process, and on PostgreSQL every
// `postgres` process (the backends serving it, the WAL writer, the checkpointer). What a write
// costs in CPU, beside what it gets in req/s, on a machine whose cores the server, the database
// and the load generator share.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times; undefined without getconf (not Linux). */
const TICKS_PER_SECOND = ((): number | undefined => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  } catch {
    return undefined;
  }
})();

/** A process's CPU time (user + system) in µs; undefined when /proc cannot tell. */
function processMicros(pid: number): number | undefined {
  if (TICKS_PER_SECOND === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the command's closing parenthesis: field 3 (state) on; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** The CPU time of every process named `postgres`, in µs (processes that end meanwhile drop out). */
function postgresMicros(): number | undefined {
  let total = 0;
  let seen = false;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
    } catch {
      continue;
    }
    const micros = processMicros(Number(entry));
    if (micros === undefined) continue;
    total += micros;
    seen = true;
  }
  return seen ? total : undefined;
}

export interface CpuPerRequest {
  /** The server process's CPU per request, µs. */
  server: number;
  /** All PostgreSQL processes' CPU per request, µs (PostgreSQL scenarios only). */
  postgres?: number;
}

/** Starts counting; the function it returns gives the CPU per request since, or undefined. */
export function cpuMeter(pid: number | undefined, withPostgres: boolean) {
  const server = pid === undefined ? undefined : processMicros(pid);
  const pg = withPostgres ? postgresMicros() : undefined;
  return (requests: number): CpuPerRequest | undefined => {
    const serverNow = pid === undefined ? undefined : processMicros(pid);
    if (server === undefined || serverNow === undefined || requests === 0) return undefined;
    const pgNow = withPostgres ? postgresMicros() : undefined;
    return {
      server: Math.round((serverNow - server) / requests),
      ...(pg !== undefined && pgNow !== undefined && { postgres: Math.round((pgNow - pg) / requests) }),
    };
  };
}
