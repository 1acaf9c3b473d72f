// The access log of a real `stageline serve` process: lines are buffered and written off the
// event loop, so what matters is that none is lost when the process ends, whether it is asked to
// (SIGTERM) or crashes (an uncaught error). The test stops reading the server's stdout during
// the load and until the server is ending, so the pipe is full and lines are still waiting in
// the server's buffer when it exits: they must be written before it is gone.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

import { startServe, type ServeProcess } from './helpers/cli-process.js';

const CRASH_FIXTURE = fileURLToPath(new URL('./fixtures/crash-on-sigusr2.mjs', import.meta.url));
const REQUESTS = 1000;

interface Line {
  level: number;
  msg: string;
  correlationId?: string;
  path?: string;
  status?: number;
  err?: { message?: string };
}

const servers: ServeProcess[] = [];
after(() => {
  for (const s of servers) s.child.kill('SIGKILL');
});

/** Sends REQUESTS reads, 30 at a time, and returns their correlation ids. */
async function load(url: string): Promise<string[]> {
  const token = `log-${randomUUID()}`;
  const ids: string[] = [];
  for (let i = 0; i < REQUESTS; i += 30) {
    const batch = await Promise.all(
      Array.from({ length: 30 }, async () => {
        const res = await fetch(`${url}/crm/v3/pipelines/deals`, {
          headers: { authorization: `Bearer ${token}` },
        });
        await res.arrayBuffer();
        assert.equal(res.status, 200);
        return res.headers.get('x-hubspot-correlation-id')!;
      }),
    );
    ids.push(...batch);
  }
  return ids;
}

/** Time for the process to reach its exit handlers while its stdout is still full. */
const untilTheProcessEnds = () => new Promise((resolve) => setTimeout(resolve, 300));

const parse = (stdout: string): Line[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);

function assertEveryAccessLine(lines: Line[], ids: string[]): void {
  const logged = new Set(lines.filter((l) => l.status === 200).map((l) => l.correlationId));
  const missing = ids.filter((id) => !logged.has(id));
  assert.deepEqual(missing, [], `${missing.length} of ${ids.length} access lines lost`);
}

describe('the access log of a serve process', () => {
  it('is written whole when the process is stopped with SIGTERM', async () => {
    const server = await startServe(['--database', ':memory:']);
    servers.push(server);
    server.child.stdout!.pause();
    const ids = await load(server.url);
    server.child.kill('SIGTERM');
    await untilTheProcessEnds();
    server.child.stdout!.resume();
    const exit = await server.exited;
    assert.equal(exit.code, 0, server.stderr());
    assertEveryAccessLine(parse(server.stdout()), ids);
  });

  it('is written whole, with a fatal line naming the error, when the process crashes', async () => {
    const server = await startServe(['--database', ':memory:'], { nodeArgs: ['--import', CRASH_FIXTURE] });
    servers.push(server);
    server.child.stdout!.pause();
    const ids = await load(server.url);
    server.child.kill('SIGUSR2');
    await untilTheProcessEnds();
    server.child.stdout!.resume();
    const exit = await server.exited;
    assert.equal(exit.code, 1, server.stderr());
    const lines = parse(server.stdout());
    assertEveryAccessLine(lines, ids);
    const fatal = lines.filter((l) => l.level === 60);
    assert.equal(fatal.length, 1, 'one fatal line');
    assert.equal(fatal[0]!.err?.message, 'simulated crash');
  });
});
