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

/** Starts `stageline <argv…>` with stdout and stderr piped; `nodeArgs` go to node itself. */
export function spawnCli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
  nodeArgs: readonly string[] = [],
): ChildProcess {
  return spawn(process.execPath, [...nodeArgs, '--import', 'tsx', '--input-type=module', '-e', RUNNER], {
    cwd: repoRoot,
    env: cleanEnv(argv, env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs `stageline <argv…>` to its end: its exit code and everything it wrote. */
export function runCli(
  argv: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return finished(spawnCli(argv));
}

/** A child process's exit code and everything it wrote, once it has ended. */
export function finished(
  child: ChildProcess,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Starts `stageline <argv…>` on a pseudo-terminal (through `script`), so that its stdin and
 * stdout are a TTY as in a developer's shell; what it writes arrives on the returned child's
 * stdout, and what is written to the child's stdin (with `stdin: 'pipe'`) is typed at it.
 */
export function spawnCliOnTerminal(
  argv: readonly string[],
  { stdin = 'ignore' }: { stdin?: 'ignore' | 'pipe' } = {},
): ChildProcess {
  const command = `"${process.execPath}" --import tsx --input-type=module -e "$STAGELINE_TEST_RUNNER"`;
  return spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: repoRoot,
    env: { ...cleanEnv(argv, {}), STAGELINE_TEST_RUNNER: RUNNER },
    stdio: [stdin, 'pipe', 'pipe'],
  });
}

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the exit code and signal once the process is gone. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface ServeOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly nodeArgs?: readonly string[];
  readonly onSpawn?: (child: ChildProcess) => void;
}

/**
 * Runs `stageline serve --auth open --port 0 --log-level info --rate-limit off <extra…>` and
 * resolves once its log says where it serves. `onSpawn` sees the child at once, so callers
 * can track it for cleanup even if start-up fails.
 */
export function startServe(extra: readonly string[], options: ServeOptions = {}): Promise<ServeProcess> {
  return startServing(
    ['serve', '--auth', 'open', '--port', '0', '--log-level', 'info', '--rate-limit', 'off', ...extra],
    options,
  );
}

/**
 * Runs `stageline <argv…>`, a `serve` command, and resolves once its log says where it serves,
 * within `patienceMs` (15 s by default).
 */
export async function startServing(
  argv: readonly string[],
  options: ServeOptions & { patienceMs?: number } = {},
): Promise<ServeProcess> {
  const child = spawnCli(argv, options.env, options.nodeArgs);
  options.onSpawn?.(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('close', (code, signal) => done({ code, signal })),
  );
  const patienceMs = options.patienceMs ?? 15_000;
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(`no "serving on" line within ${patienceMs} ms; stdout: ${stdout}; stderr: ${stderr}`),
        ),
      patienceMs,
    );
    const check = () => {
      for (const line of stdout.split('\n')) {
        if (!line.startsWith('{')) continue;
        let entry: { msg?: string };
        try {
          entry = JSON.parse(line) as { msg?: string };
        } catch {
          continue; // a line still arriving
        }
        const m = /^Stageline \S+ serving on (http:\/\/127\.0\.0\.1:\d+)$/.exec(entry.msg ?? '');
        if (m?.[1]) {
          clearTimeout(timer);
          child.stdout?.off('data', check);
          resolveUrl(m[1]);
          return;
        }
      }
    };
    child.stdout?.on('data', check);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`exited early (${code ?? signal}): ${stderr}`));
    });
  });
  return { child, url, stdout: () => stdout, stderr: () => stderr, exited };
}

/** SIGTERM, then SIGKILL after a grace period; resolves once every child is gone. */
export async function stopProcesses(children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const closed = new Promise<void>((done) => child.once('close', () => done()));
      child.kill('SIGTERM');
      const graceful = await Promise.race([
        closed.then(() => true),
        new Promise<boolean>((done) => setTimeout(() => done(false), 5000)),
      ]);
      if (!graceful) {
        child.kill('SIGKILL');
        await closed;
      }
    }),
  );
}

/**
 * Starts `count` `stageline serve` processes at once on one database, each with a small pool
 * (they share one PostgreSQL), pushing each child onto `children` as it spawns.
 */
export async function startServeProcesses(
  count: number,
  database: string,
  extra: readonly string[],
  children: ChildProcess[],
): Promise<ServeProcess[]> {
  return Promise.all(
    Array.from({ length: count }, () =>
      startServe(['--database', database, ...extra], {
        env: { STAGELINE_POOL_SIZE: '4' },
        onSpawn: (child) => children.push(child),
      }),
    ),
  );
}
