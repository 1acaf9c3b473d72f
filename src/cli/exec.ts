/**
 * `stageline exec -- <command…>`: a Stageline for the length of one command, as the Firebase
 * emulators' `emulators:exec` gives one: a free port, `STAGELINE_URL` in the command's
 * environment, the command's exit code as its own, and signals passed on to the command.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

import type { Config } from '../config.js';
import { createStageline } from '../stageline.js';

/** What `exec` changes from `serve`'s defaults: a throwaway emulator, quiet, on a free port. */
export const EXEC_DEFAULTS = {
  port: 0,
  database: ':memory:',
  auth: 'open',
  logLevel: 'warn',
} as const satisfies Partial<Record<keyof Config, unknown>>;

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Runs the command against a fresh server; resolves with the code to exit with. */
export async function runExec(config: Config, command: readonly string[]): Promise<number> {
  const stageline = await createStageline(config);
  let code: number;
  try {
    const issued = await stageline.bootstrap();
    const url = await stageline.app.listen({ port: config.port, host: config.host });
    const env: NodeJS.ProcessEnv = { ...process.env, STAGELINE_URL: url };
    if (issued !== undefined) env.STAGELINE_TOKEN = issued.token;
    const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env });
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const handlers = FORWARDED.map((signal) => [signal, forward(signal)] as const);
    for (const [signal, handler] of handlers) process.on(signal, handler);
    try {
      code = await new Promise<number>((resolve) => {
        child.once('error', (err) => {
          process.stderr.write(`stageline exec: cannot run ${command[0]}: ${err.message}\n`);
          resolve(127);
        });
        // A command ended by a signal exits as shells report it: 128 + the signal's number.
        child.once('exit', (exitCode, signal) =>
          resolve(exitCode ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0))),
        );
      });
    } finally {
      for (const [signal, handler] of handlers) process.off(signal, handler);
    }
  } finally {
    await stageline.close();
  }
  return code;
}
