// The package ships the board: `npm pack` lists its built page and every asset the page loads, so
// `npm install stageline && npx stageline serve` serves /ui/ (the build runs in `prepare`).
// Outside CI a missing build skips this with a printed reason; in CI (CI=true) it is a failure.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../', import.meta.url));
const INDEX = 'dist/ui/index.html';

function skipReason(): string | undefined {
  if (existsSync(`${root}${INDEX}`)) return undefined;
  const reason = `the board is not built (${INDEX} is missing): run npm run build`;
  if (process.env.CI === 'true') throw new Error(`${reason}. In CI the package must ship the board.`);
  console.log(`# skipping the package contents check: ${reason}`);
  return reason;
}

/** The paths `npm pack` would put in the tarball, without running any script (no rebuild). */
async function packedFiles(): Promise<Set<string>> {
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    maxBuffer: 16 * 1024 * 1024,
  });
  const [pack] = JSON.parse(stdout) as [{ files: { path: string }[] }];
  return new Set(pack.files.map((f) => f.path));
}

describe('the npm package', { skip: skipReason() }, () => {
  it("ships the board's page and every asset it loads", async () => {
    const files = await packedFiles();
    assert.ok(files.has(INDEX), `${INDEX} is packed`);
    const html = readFileSync(`${root}${INDEX}`, 'utf8');
    const assets = [...html.matchAll(/(?:src|href)="\/ui\/(assets\/[^"]+)"/g)].map((m) => `dist/ui/${m[1]}`);
    assert.ok(
      assets.some((a) => a.endsWith('.js')) && assets.some((a) => a.endsWith('.css')),
      `the page loads a script and a stylesheet: ${assets.join(', ')}`,
    );
    const missing = assets.filter((a) => !files.has(a));
    assert.deepEqual(missing, [], 'every asset the page loads is packed');
  });
});
