import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * The worker's code: its own connection to the database file, checkpointing on request with
 * `synchronous = FULL` (the log is synced before it is copied, the database file after).
 * CommonJS, as an evaluated worker runs; the driver comes by absolute path.
 */
const CHECKPOINTER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.filename);
db.pragma('synchronous = FULL');
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // loses nothing: the log grows until a later checkpoint copies it
  }
  parentPort.postMessage('done');
});
`;

const driver = createRequire(import.meta.url).resolve('better-sqlite3');

/**
 * Checkpoints a WAL database from a worker thread, so that the event loop does not stand still
 * through the two syncs of each checkpoint (a few milliseconds here). The worker starts with
 * the first checkpoint. Its caller must not commit meanwhile: the writer starts the log over
 * only when a write transaction begins after a checkpoint that copied all of it.
 */
export class Checkpointer {
  private worker: Worker | undefined;
  /** Set when the worker failed: checkpoints run in this thread from then on. */
  private broken = false;
  /** Settles the checkpoint running in the worker, if any. */
  private finish: (() => void) | undefined;

  /**
   * @param inThisThread checkpoints on the caller's connection, should the worker fail.
   * @param source the worker's code (tests pass one that fails).
   */
  constructor(
    private readonly filename: string,
    private readonly inThisThread: () => Promise<void>,
    private readonly source = CHECKPOINTER_SOURCE,
  ) {}

  /**
   * Checkpoints; resolves (never rejects) once it is over, whether SQLite could copy the whole
   * log or not: a checkpoint that cannot run loses nothing, the log grows until one can.
   */
  checkpoint(): Promise<void> {
    if (this.broken) return this.inThisThread().catch(() => undefined);
    return new Promise<void>((resolve) => {
      this.finish = resolve;
      const worker = this.start();
      // The process stays up while a checkpoint runs; an idle worker does not hold it.
      worker.ref();
      worker.postMessage('checkpoint');
    });
  }

  private start(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = new Worker(this.source, {
      eval: true,
      workerData: { driver, filename: this.filename },
    });
    const settle = () => {
      worker.unref();
      const finish = this.finish;
      this.finish = undefined;
      finish?.();
    };
    worker.on('message', settle);
    // An error, or an exit not asked for by close(): checkpoints run in this thread from now on,
    // starting with the one under way, which would otherwise never settle (and writes wait for it).
    const fail = () => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.broken = true;
      if (this.finish !== undefined) void this.inThisThread().then(settle, settle);
    };
    worker.on('error', fail);
    worker.on('exit', fail);
    this.worker = worker;
    return worker;
  }

  /** Closes the worker's connection; the store's own connection must be the last to close. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return;
    this.worker = undefined;
    // Held open until the worker has closed its connection and exited.
    worker.ref();
    await new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      worker.postMessage('close');
    });
  }
}
