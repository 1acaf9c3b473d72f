// The `stageline` command line, run from source in a child process (the build in dist/ may be
// stale). The runner mirrors bin/stageline.js, importing src/cli/main.ts through tsx.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { spawnCli, spawnCliOnTerminal, startServing } from './helpers/cli-process.js';
import type { ServeProcess } from './helpers/cli-process.js';

const children = new Set<ChildProcess>();

function track(child: ChildProcess): void {
  children.add(child);
  child.on('exit', () => children.delete(child));
}

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function collect(child: ChildProcess): Promise<Result> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise<Result>((resolveDone, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolveDone({ code, signal, stdout, stderr }));
  });
}

/**
 * How long a CLI process may take to start and finish. It runs from source through tsx, which
 * compiles on first use: on a fresh clone, beside another test file on two cores, a start took
 * over 8 s once. Hitting this is a hang, not slowness.
 */
const CLI_PATIENCE_MS = 30_000;

async function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  const child = spawnCli(argv, env);
  track(child);
  const done = collect(child);
  const timer = setTimeout(() => child.kill('SIGKILL'), CLI_PATIENCE_MS);
  try {
    return await done;
  } finally {
    clearTimeout(timer);
  }
}

/** `stageline <argv…>`, a serve command, once it serves. */
const serve = (argv: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> =>
  startServing(argv, { env, onSpawn: track, patienceMs: CLI_PATIENCE_MS });

/** Stops a server with SIGTERM; resolves with how it exited and all it wrote. */
async function stop(server: ServeProcess): Promise<Result> {
  server.child.kill('SIGTERM');
  const { code, signal } = await server.exited;
  return { code, signal, stdout: server.stdout(), stderr: server.stderr() };
}

async function eventually(what: string, ok: () => boolean, withinMs = 2000): Promise<void> {
  for (const start = Date.now(); !ok(); await new Promise((r) => setTimeout(r, 25))) {
    if (Date.now() - start > withinMs) assert.fail(`${what} within ${withinMs} ms`);
  }
}

const tmpDirs: string[] = [];
function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stageline-cli-'));
  tmpDirs.push(dir);
  return join(dir, 'stageline.db');
}

after(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of tmpDirs) rmSync(dir, { recursive: true, force: true });
});

interface TokenRow {
  id: string;
  portalId: number;
  userId: number;
  scopes: string[] | null;
  createdAt: string;
  revokedAt: string | null;
  [key: string]: unknown;
}

describe('stageline CLI', { concurrency: true }, () => {
  it('--help lists serve and tokens', async () => {
    const r = await run(['--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Usage: stageline/);
    assert.match(r.stdout, /^\s+serve\b/m);
    assert.match(r.stdout, /^\s+tokens\b/m);
    for (const command of ['migrate', 'export', 'import'])
      assert.match(r.stdout, new RegExp(`^\\s+${command}\\b`, 'm'));
  });

  it('a bad setting exits 2 naming the flag or variable', async () => {
    // Commander rejects both; main() gives its usage errors the exit code of a ConfigError.
    const badFlag = await run(['serve', '--port', 'eighty', '--database', tempDb()]);
    assert.equal(badFlag.code, 2, badFlag.stderr);
    assert.match(
      badFlag.stderr,
      /option '-p, --port <port>' argument 'eighty' is invalid\. Invalid port: eighty/,
    );
    const badEnv = await run(['tokens', 'list', '--database', tempDb()], { STAGELINE_POOL_SIZE: '0' });
    assert.equal(badEnv.code, 2, badEnv.stderr);
    assert.match(badEnv.stderr, /value '0' from env 'STAGELINE_POOL_SIZE' is invalid\. Invalid pool size: 0/);
  });

  it("serve: rate limits default to off in open mode, to HubSpot's in tokens mode; an explicit policy wins", async () => {
    /** The x-hubspot-ratelimit-max header of an authenticated answer of `serve <argv…>`. */
    const rateLimitMax = async (argv: string[]): Promise<string | null> => {
      const open = argv.includes('open');
      const server = await serve(['serve', '--port', '0', '--database', tempDb(), ...argv]);
      try {
        // Open mode takes any token; tokens mode on an empty database prints an admin token.
        if (!open) await eventually('the admin token banner', () => server.stderr().includes('More tokens'));
        const token = open ? 'any-token' : /\b(stl_[A-Za-z0-9_-]+)/.exec(server.stderr())?.[1];
        const res = await fetch(`${server.url}/crm/v3/pipelines/deals`, {
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(res.status, 200);
        return res.headers.get('x-hubspot-ratelimit-max');
      } finally {
        await stop(server);
      }
    };
    // One server at a time: each is a process compiling TypeScript (cli-settings.test.ts checks
    // more combinations in process).
    assert.equal(await rateLimitMax(['--auth', 'open']), null, '--auth open');
    assert.equal(await rateLimitMax(['--auth', 'open', '--rate-limit', 'hubspot']), '100', 'with hubspot');
    assert.equal(await rateLimitMax([]), '100', 'tokens mode');
  });

  it('serve --log-format pretty writes pretty lines even into a pipe, where JSON is the default', async () => {
    const argv = [
      'serve',
      '--auth',
      'open',
      '--port',
      '0',
      '--database',
      ':memory:',
      '--log-format',
      'pretty',
    ];
    const child = spawnCli(argv);
    track(child);
    const done = collect(child);
    let stdout = '';
    await new Promise<void>((serving, failed) => {
      const timer = setTimeout(() => failed(new Error(`no "serving on" line: ${stdout}`)), CLI_PATIENCE_MS);
      child.stdout?.on('data', (d: string) => {
        stdout += d;
        if (!stdout.includes('serving on http')) return;
        clearTimeout(timer);
        serving();
      });
      void done.then((r) => failed(new Error(`exited early (${r.code}): ${r.stderr}`)));
    });
    child.kill('SIGTERM');
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\[[\d:.]+\] INFO.*: Stageline \S+ serving on http:\/\/127\.0\.0\.1:\d+$/m);
    assert.ok(!r.stdout.split('\n').some((line) => line.startsWith('{')), r.stdout);
  });

  it('serve writes pretty lines on a terminal, the access line as a sentence', async () => {
    const child = spawnCliOnTerminal(['serve', '--auth', 'open', '--port', '0', '--database', ':memory:']);
    track(child);
    const done = collect(child);
    let output = '';
    const base = await new Promise<string>((serving, failed) => {
      const timer = setTimeout(() => failed(new Error(`no "serving on" line: ${output}`)), CLI_PATIENCE_MS);
      child.stdout?.on('data', (d: string) => {
        output += d;
        const m = /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (m === null) return;
        clearTimeout(timer);
        serving(m[1]!);
      });
      void done.then((r) => failed(new Error(`exited early (${r.code}): ${r.stdout}`)));
    });
    const res = await fetch(`${base}/crm/v3/pipelines/deals`, { headers: { authorization: 'Bearer pty' } });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    for (const started = Date.now(); !output.includes('GET /crm/v3/pipelines/deals 200 in');) {
      assert.ok(Date.now() - started < CLI_PATIENCE_MS, `no access line: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill('SIGTERM');
    await done;
    assert.ok(
      !output.split(/\r?\n/).some((line) => line.startsWith('{')),
      `no JSON on a terminal: ${output}`,
    );
  });

  it('tokens create, list, revoke', async () => {
    const database = tempDb();
    const created = await run([
      'tokens',
      'create',
      '--portal',
      '7',
      '--scopes',
      'a,b',
      '--user',
      '9',
      '--database',
      database,
    ]);
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    assert.match(token, /^stl_[A-Za-z0-9_-]{20,}$/);
    assert.equal(created.stdout, `${token}\n`, 'stdout holds the token alone');
    assert.match(created.stderr, /portal 7/);
    const id = /(tok_[0-9a-f]+)/.exec(created.stderr)?.[1];
    assert.ok(id, `no token id in: ${created.stderr}`);

    const listed = await run(['tokens', 'list', '--json', '--database', database]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(!listed.stdout.includes(token), 'the secret is listed');
    const rows = JSON.parse(listed.stdout) as TokenRow[];
    assert.equal(rows.length, 1);
    const row = rows[0];
    assert.ok(row);
    assert.equal(row.id, id);
    assert.equal(row.portalId, 7);
    assert.equal(row.userId, 9);
    assert.deepEqual(row.scopes, ['a', 'b']);
    assert.equal(row.revokedAt, null);
    assert.ok(!('hash' in row), 'the hash is listed');
    assert.ok(!('token' in row), 'the token is listed');
    assert.ok(!/[0-9a-f]{64}/.test(listed.stdout), 'something hash-like is listed');

    const revoked = await run(['tokens', 'revoke', id, '--database', database]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, new RegExp(`Revoked ${id}`));

    const again = await run(['tokens', 'revoke', id, '--database', database]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, new RegExp(id));
  });

  it('serve: first start prints an admin token once, answers /health, exits 0 on SIGTERM', async () => {
    const database = tempDb();

    const serveOnce = () => serve(['serve', '--port', '0', '--database', database]);

    const first = await serveOnce();
    // stderr and stdout are separate pipes: the banner may arrive just after the log line.
    await eventually('the admin token banner', () => first.stderr().includes('More tokens'));
    const firstStderr = first.stderr();
    const health = await fetch(`${first.url}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const token = /\b(stl_[A-Za-z0-9_-]+)/.exec(firstStderr)?.[1];
    assert.ok(token, `no admin token on stderr: ${firstStderr}`);
    assert.match(firstStderr, /basePath/);
    assert.ok(firstStderr.includes(`basePath: '${first.url}'`), firstStderr);
    assert.equal(firstStderr.split(token).length - 1, 2, 'token shown once, plus once in the snippet');
    const deals = await fetch(`${first.url}/crm/v3/pipelines/deals`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(deals.status, 200);
    const denied = await fetch(`${first.url}/crm/v3/pipelines/deals`, {
      headers: { authorization: 'Bearer nope' },
    });
    assert.equal(denied.status, 401);
    const firstExit = await stop(first);
    assert.equal(firstExit.code, 0, firstExit.stderr);
    assert.ok(!firstExit.stdout.includes(token), 'the admin token reached the log on stdout');

    const second = await serveOnce();
    const health2 = await fetch(`${second.url}/health`);
    assert.equal(health2.status, 200);
    const stillValid = await fetch(`${second.url}/crm/v3/pipelines/deals`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(stillValid.status, 200);
    const secondExit = await stop(second);
    assert.equal(secondExit.code, 0, secondExit.stderr);
    assert.ok(!/stl_/.test(secondExit.stderr), `second start printed a token: ${secondExit.stderr}`);
    assert.ok(!secondExit.stdout.includes(token));
  });
});
