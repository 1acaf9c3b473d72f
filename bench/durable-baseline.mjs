// Baseline (b), for writes: the yardstick for a durable write. Each POST, PUT, PATCH or DELETE
// appends its body (an empty-bodied request: its method and URL) to a file, and is answered with
// the bytes Stageline sends only once a sync of that file that began after the append has ended.
// Syncs are group commits: one `fdatasync` at a time, in the thread pool; writes that arrive
// while it runs are appended meanwhile and share the next one, which starts as it ends.
// Reads are answered straight away. Arguments: the port, then the directory for the file.
import { fdatasync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

import { cannedApp, listen } from './canned.mjs';

const fd = openSync(join(process.argv[3] ?? '.', 'durable-baseline.log'), 'a');

/** @type {{ resolve: () => void, reject: (err: Error) => void }[]} */
let waiting = [];
let syncing = false;

/** Resolves once a sync that began after this call has ended. */
function synced() {
  return new Promise((resolve, reject) => {
    waiting.push({ resolve: () => resolve(undefined), reject });
    if (!syncing) sync();
  });
}

function sync() {
  const batch = waiting;
  waiting = [];
  syncing = true;
  fdatasync(fd, (err) => {
    syncing = false;
    for (const w of batch) {
      if (err) w.reject(err);
      else w.resolve();
    }
    if (waiting.length > 0) sync();
  });
}

const { app, answer } = cannedApp();
app.route({ method: 'GET', url: '/*', handler: async (request, reply) => answer(request, reply) });
app.route({
  method: ['POST', 'PUT', 'PATCH', 'DELETE'],
  url: '/*',
  handler: async (request, reply) => {
    const record =
      request.body === undefined ? `${request.method} ${request.url}` : JSON.stringify(request.body);
    // Appended on the event loop, before the sync is asked for: any sync that starts later covers it.
    writeSync(fd, `${record}\n`);
    await synced();
    return answer(request, reply);
  },
});
await listen(app);
