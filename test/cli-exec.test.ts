// `stageline exec`: a throwaway server for one command, STAGELINE_URL exported, the command's
// exit code passed through, signals forwarded, and the server gone afterwards.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { spawnCli } from './helpers/cli-process.js';

const seed = fileURLToPath(new URL('./fixtures/seeds/pipelines.yaml', import.meta.url));

function run(argv: string[]): {
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  child: ReturnType<typeof spawnCli>;
} {
  const child = spawnCli(argv);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { done, child };
}

// The command: a Node script that talks to the server through STAGELINE_URL.
const script = (body: string) => ['--', process.execPath, '--input-type=module', '-e', body];

describe('stageline exec', () => {
  it('runs the command against a seeded server and exits with its code', async () => {
    const { done } = run([
      'exec',
      '--seed',
      seed,
      ...script(`
        const url = process.env.STAGELINE_URL;
        const res = await fetch(url + '/crm/v3/pipelines/deals', { headers: { authorization: 'Bearer t' } });
        const { results } = await res.json();
        console.log(url, results.map((p) => p.id).join(','));
        process.exit(7);
      `),
    ]);
    const { code, stdout, stderr } = await done;
    assert.equal(code, 7, stderr);
    const [url, ids] = stdout.trim().split(' ');
    assert.match(url ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(ids, 'sales');
    // The server stopped with the command.
    await assert.rejects(fetch(`${url}/health`));
  });

  it('forwards SIGTERM to the command and exits as it did', async () => {
    const { done, child } = run([
      'exec',
      ...script(
        `process.on('SIGTERM', () => process.exit(42)); setInterval(() => {}, 1000); console.log('ready');`,
      ),
    ]);
    await new Promise<void>((resolve) =>
      child.stdout?.on('data', (d: string) => d.includes('ready') && resolve()),
    );
    child.kill('SIGTERM');
    assert.equal((await done).code, 42);
  });

  it('a command that cannot start exits 127; a bad seed file stops it before, naming the file', async () => {
    assert.equal((await run(['exec', '--', 'stageline-no-such-command']).done).code, 127);
    const bad = await run(['exec', '--seed', 'no-such.yaml', '--', process.execPath, '-e', '']).done;
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /no-such\.yaml: .*cannot be read/);
  });
});
