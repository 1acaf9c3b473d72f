/** The process's logger: pino, written from a worker thread, flushed on exit and on a crash. */
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

/**
 * Undefined for `silent`. Lines go to a pino transport: a worker thread writes them to stdout,
 * so a request never waits for the terminal or the pipe, and a full pipe never drops a line
 * (pino's asynchronous in-thread destination lost lines once stdout was a non-blocking pipe).
 * pino flushes the transport when the process exits, `process.exit()` from a crash included.
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
  const transport =
    format === 'json'
      ? pino.transport({ target: 'pino/file', options: { destination: 1 } })
      : pino.transport({
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
 * An uncaught error or unhandled rejection ends the process with exit code 1, after a `fatal`
 * line naming it; `process.exit` then flushes every line still buffered (pino registers that).
 */
export function exitOnCrash(log: Logger | undefined): void {
  process.once('uncaughtException', (err, origin) => {
    if (log === undefined) process.stderr.write(`${err.stack ?? String(err)}\n`);
    else log.fatal({ err }, `crashed: ${origin}`);
    process.exit(1);
  });
}
