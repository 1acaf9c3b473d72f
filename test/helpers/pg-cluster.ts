// A throwaway PostgreSQL cluster for the fault tests: `initdb` into a temporary folder, its own
// port and socket folder, run as the `postgres` OS user (PostgreSQL refuses to run as root), so a
// test can SIGKILL it, restart it and fill its disk without touching any other PostgreSQL.
// Outside CI a machine without the binaries, the user or root skips with a printed reason; in CI
// (CI=true) that is a failure.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';

import { startServe, type ServeProcess } from './cli-process.js';

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** The folder of initdb and postgres: `pg_config --bindir`, else the newest Debian install. */
function findBindir(): string | undefined {
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (existsSync(join(dir, 'initdb'))) return dir;
  } catch {
    // no pg_config on the PATH
  }
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

function osUser(name: string): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

const hasCommand = (name: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** undefined when a cluster can be made here; otherwise why the tests are skipped. */
export function clusterSkipReason(): string | undefined {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (to run PostgreSQL as the postgres user and mount tmpfs)');
  if (findBindir() === undefined) missing.push('the PostgreSQL server binaries (initdb, postgres)');
  if (osUser('postgres') === undefined) missing.push('a postgres OS user');
  if (!hasCommand('setpriv')) missing.push('setpriv (util-linux)');
  if (missing.length === 0) return undefined;
  const reason = `a throwaway PostgreSQL cluster needs ${missing.join(', ')}`;
  if (process.env.CI === 'true') throw new Error(`${reason}. In CI the fault tests are required.`);
  console.log(`# skipping PostgreSQL fault tests: ${reason}`);
  return reason;
}

/** undefined when the test may mount a tmpfs (the disk-full tests); otherwise why they are skipped. */
export function tmpfsSkipReason(): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'stageline-tmpfs-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'pipe' });
    execFileSync('umount', [dir], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    const reason = `mounting a tmpfs failed (${(err as Error).message.split('\n')[0]})`;
    if (process.env.CI === 'true') throw new Error(`${reason}. In CI the disk-full tests are required.`);
    console.log(`# skipping PostgreSQL disk-full tests: ${reason}`);
    return reason;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A port nobody listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (address === null || typeof address !== 'object') throw new Error('no port');
  return address.port;
}

/** Whether a process exists and is not a zombie. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The pids whose parent is `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export class PgCluster {
  private postmaster: ChildProcess | undefined;
  private log = '';
  private readonly mounts: string[] = [];

  private constructor(
    readonly root: string,
    readonly port: number,
    private readonly bindir: string,
    private readonly owner: { uid: number; gid: number },
    private readonly settings: Record<string, string>,
  ) {}

  get dataDir(): string {
    return join(this.root, 'data');
  }

  /** `initdb` into a new temporary folder owned by the postgres user; not started yet. */
  static async create(settings: Record<string, string> = {}): Promise<PgCluster> {
    const bindir = findBindir();
    const owner = osUser('postgres');
    if (bindir === undefined || owner === undefined) throw new Error('no PostgreSQL binaries or user');
    const root = mkdtempSync(join(tmpdir(), 'stageline-pgfault-'));
    chownSync(root, owner.uid, owner.gid);
    const cluster = new PgCluster(root, await freePort(), bindir, owner, settings);
    const initdb = ['-D', cluster.dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'];
    execFileSync('setpriv', cluster.asPostgres('initdb', initdb), { cwd: root, stdio: 'pipe' });
    return cluster;
  }

  /** A URL of one database of this cluster. */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /**
   * Two `stageline serve` processes on one of the cluster's databases, as the fault tests run them
   * (each child is pushed onto `children` as it spawns, so a failed start is cleaned up too).
   */
  serveTwo(database: string, dbTimeoutMs: number, children: ChildProcess[]): Promise<ServeProcess[]> {
    const args = [
      '--database',
      this.url(database),
      '--db-timeout-ms',
      String(dbTimeoutMs),
      '--pool-size',
      '4',
    ];
    return Promise.all([0, 1].map(() => startServe(args, { onSpawn: (child) => children.push(child) })));
  }

  /** setpriv's arguments to run one of PostgreSQL's programs as the postgres user. */
  private asPostgres(command: string, args: readonly string[]): string[] {
    const { uid, gid } = this.owner;
    return [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', join(this.bindir, command), ...args];
  }

  /** The postmaster's server log so far (its stderr), for failure messages. */
  serverLog(): string {
    return this.log;
  }

  /** Starts the postmaster (after a crash: with crash recovery) and waits until it answers. */
  async start(patienceMs = 30_000): Promise<void> {
    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: this.root,
      fsync: 'on',
      synchronous_commit: 'on',
      full_page_writes: 'on',
      // After a crash, PostgreSQL first flushes its whole data folder: one syncfs() of the
      // filesystem instead of an fsync() per file (as durable, 0.1 s instead of 1-2 s a restart).
      recovery_init_sync_method: 'syncfs',
      shared_buffers: '16MB',
      max_connections: '40',
      ...this.settings,
    };
    const args = ['-D', this.dataDir, '-p', String(this.port)];
    for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`);
    const child = spawn('setpriv', this.asPostgres('postgres', args), {
      cwd: this.root,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.postmaster = child;
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.log += d;
    });
    const deadline = Date.now() + patienceMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        // Backends of a killed postmaster may still hold its shared memory: try again shortly.
        if (Date.now() > deadline) throw new Error(`postgres did not start: ${this.log.slice(-2000)}`);
        await sleep(100);
        return this.start(deadline - Date.now());
      }
      const client = new pg.Client({ connectionString: this.url(), connectionTimeoutMillis: 1000 });
      try {
        await client.connect();
        await client.query('SELECT 1');
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`postgres did not answer: ${this.log.slice(-2000)}`);
      } finally {
        await client.end().catch(() => undefined);
      }
      await sleep(50);
    }
  }

  /** The postmaster's pid, from postmaster.pid. */
  postmasterPid(): number {
    return Number(readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  }

  /**
   * A crash of the database server: SIGKILL to the postmaster (the pid in postmaster.pid), then
   * to every server process it left behind, as when the machine's PostgreSQL dies at once. No
   * shutdown checkpoint is written: the next start runs crash recovery from the WAL.
   */
  async crash(): Promise<void> {
    const pid = this.postmasterPid();
    const backends = childrenOf(pid);
    const exited = this.postmaster
      ? new Promise<void>((done) => this.postmaster?.once('exit', () => done()))
      : undefined;
    process.kill(pid, 'SIGKILL');
    for (const child of [...backends, ...childrenOf(pid)]) {
      try {
        process.kill(child, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (this.postmaster && this.postmaster.exitCode === null && this.postmaster.signalCode === null)
      await exited;
    const deadline = Date.now() + 10_000;
    while (backends.some(running)) {
      if (Date.now() > deadline)
        throw new Error(`server processes still running: ${backends.filter(running).join(', ')}`);
      await sleep(10);
    }
  }

  /** Runs SQL as the superuser on one database. */
  async sql(text: string, database = 'postgres'): Promise<pg.QueryResult> {
    const client = new pg.Client({ connectionString: this.url(database), connectionTimeoutMillis: 5000 });
    await client.connect();
    try {
      return await client.query(text);
    } finally {
      await client.end();
    }
  }

  /** Mounts a tmpfs of `size` (e.g. "12m") at a new folder owned by the postgres user. */
  mountTmpfs(name: string, size: string): string {
    const dir = join(this.root, name);
    mkdirSync(dir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir]);
    this.mounts.push(dir);
    chownSync(dir, this.owner.uid, this.owner.gid);
    return dir;
  }

  /** Grows (or shrinks) a mounted tmpfs. */
  resizeTmpfs(dir: string, size: string): void {
    execFileSync('mount', ['-o', `remount,size=${size}`, dir]);
  }

  /** Stops the postmaster at once (immediate shutdown), unmounts, removes the folder. */
  async destroy(): Promise<void> {
    const child = this.postmaster;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((done) => child.once('exit', () => done()));
      child.kill('SIGQUIT');
      await Promise.race([exited, sleep(10_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    for (const dir of this.mounts.splice(0).reverse()) {
      try {
        execFileSync('umount', ['-l', dir]);
      } catch {
        // not mounted
      }
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}
