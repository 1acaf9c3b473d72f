// The `stageline` command run from source in a child process (dist/ may be stale): the runner
// mirrors bin/stageline.js but imports src/cli/main.ts through tsx. The child's environment holds
// nothing the CLI reads as configuration, so only the arguments (and `env`) configure it.

import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const RUNNER = `
import('./src/cli/main.ts')
  .then((m) => m.main(['node', 'stageline', ...JSON.parse(process.env.STAGELINE_TEST_ARGV ?? '[]')]))
  .catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
`;

function cleanEnv(argv: readonly string[], env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['PORT', 'HOST', 'LOG_LEVEL', 'NODE_OPTIONS', 'NODE_TEST_CONTEXT']) delete out[name];
  for (const name of Object.keys(out)) if (name.startsWith('STAGELINE_')) delete out[name];
  return { ...out, ...env, STAGELINE_TEST_ARGV: JSON.stringify(argv) };
}

/** Starts `stageline <argv…>` with stdout and stderr piped. */
export function spawnCli(argv: readonly string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', RUNNER], {
    cwd: repoRoot,
    env: cleanEnv(argv, env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
