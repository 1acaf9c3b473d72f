/** The process's logger: pino, written off the event loop, drained on exit and on a crash. */
import { isatty } from 'node:tty';

import type { DestinationStream, Logger, LoggerOptions } from 'pino';
import { pino } from 'pino';

import type { LogLevel } from './config.js';

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LoggerSettings {
  readonly level: LogLevel;
  /** `json`, `pretty`, or undefined: pretty when stdout is a terminal, JSON otherwise. */
  readonly format?: LogFormat;
  /** Where lines go instead of stdout (tests collect them). */
  readonly stream?: DestinationStream;
}

/** How long an ending process waits for buffered lines to be written before it exits anyway. */
const DRAIN_MS = 2000;

/**
 * Undefined for `silent`.
 *
 * JSON lines go to pino's asynchronous destination: they are buffered and written by libuv's
 * thread pool, so a request never waits for stdout. That destination drops the chunk it is
 * writing when the process exits while stdout is full, so an ending process first drains it
 * (`exitAfterLogs`). Pretty lines (for a terminal) go through a pino transport: a worker thread
 * formats and writes them, and pino flushes it at exit.
 *
 * Measured: the transport cost the event loop about 30 µs more per request than the
 * asynchronous destination (a cached read is about 60 µs in all).
 */
export function createLogger(settings: LoggerSettings): Logger | undefined {
  if (settings.level === 'silent') return undefined;
  const options: LoggerOptions = {
    level: settings.level,
    // Tokens never reach the logs: nothing logs headers, and this is the backstop.
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'authorization'],
      censor: '[redacted]',
    },
  };
  if (settings.stream !== undefined) return pino(options, settings.stream);
  // isatty, not process.stdout.isTTY: creating process.stdout makes a pipe non-blocking.
  const format = settings.format ?? (isatty(1) ? 'pretty' : 'json');
  if (format === 'json') {
    // minLength 1 writes each line as soon as it comes, as the default 0 does, and makes
    // flush(cb) wait until the writes are done (with 0 it calls back at once).
    return pino(options, pino.destination({ dest: 1, sync: false, minLength: 1 }));
  }
  const transport = pino.transport({
    target: 'pino-pretty',
    options: {
      destination: 1,
      colorize: isatty(1),
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,method,path,status,durationMs',
    },
  });
  return pino(options, transport);
}

/**
 * Ends the process with `code` once every line logged so far is written, or DRAIN_MS later if
 * stdout takes no more; pino writes what is still buffered then, as the process exits.
 */
export function exitAfterLogs(log: Logger | undefined, code: number): void {
  const exit = () => process.exit(code);
  setTimeout(exit, DRAIN_MS);
  if (log === undefined) exit();
  else log.flush(exit);
}

/**
 * An uncaught error or unhandled rejection ends the process with exit code 1, after a `fatal`
 * line naming it.
 */
export function exitOnCrash(log: Logger | undefined): void {
  process.once('uncaughtException', (err, origin) => {
    if (log === undefined) process.stderr.write(`${err.stack ?? String(err)}\n`);
    else log.fatal({ err }, `crashed: ${origin}`);
    exitAfterLogs(log, 1);
  });
}
