// Seed files: YAML and JSON parsed and checked, with errors naming the file, the line and the
// path; `startStageline({ seed })` starting every new portal from one.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { loadSeedFile } from '../src/app/control-plane.js';
import { startStageline } from '../src/index.js';
import { SeedError, parseSeedText } from '../src/seed/seed-document.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/seeds/${name}`, import.meta.url));

async function seedError(name: string): Promise<SeedError> {
  try {
    await loadSeedFile(fixture(name));
  } catch (err) {
    assert.ok(err instanceof SeedError, String(err));
    return err;
  }
  assert.fail(`${name} loaded`);
}

describe('seed files', () => {
  it('reads YAML', async () => {
    const doc = await loadSeedFile(fixture('pipelines.yaml'));
    assert.deepEqual(Object.keys(doc.objectTypes), ['deals', 'tickets']);
    assert.equal(doc.objectTypes.deals?.pipelines?.[0]?.stages[1]?.metadata?.probability, 1);
  });

  it('names the file, the line and the path of a bad value (YAML)', async () => {
    const err = await seedError('bad-metadata.yaml');
    assert.match(
      err.message,
      /bad-metadata\.yaml:12: objectTypes\.deals\.pipelines\[0\]\.stages\[0\]\.metadata: dealstage probability is not valid/,
    );
  });

  it('names the file, the line and the path of a missing field (JSON), at its object', async () => {
    const err = await seedError('missing-label.json');
    assert.match(err.message, /missing-label\.json:5: objectTypes\.deals\.pipelines\[0\]\.label is required/);
  });

  it('names the line of a syntax error, and the path of an unknown field', () => {
    assert.throws(
      () => parseSeedText('objectTypes:\n  deals: [\n', 'broken.yaml'),
      /broken\.yaml:\d+: .*not valid YAML or JSON/,
    );
    assert.throws(
      () => parseSeedText('objectTypes:\n  deals:\n    pipelinez: []\n', 'typo.yaml'),
      /typo\.yaml:3: objectTypes\.deals\.pipelinez is not a field of this object/,
    );
    assert.throws(() => parseSeedText('{}', 'empty.json'), /empty\.json:1: objectTypes is required/);
  });

  it('a file that cannot be read is named', async () => {
    const err = await seedError('does-not-exist.yaml');
    assert.match(err.message, /does-not-exist\.yaml: .*cannot be read/);
  });

  it('startStageline({ seed }) starts every new portal from it', async () => {
    const stageline = await startStageline({ seed: fixture('pipelines.yaml') });
    try {
      for (const token of ['a', 'b']) {
        const res = await fetch(`${stageline.url}/crm/v3/pipelines/tickets`, {
          headers: { authorization: `Bearer ${token}` },
        });
        const { results } = (await res.json()) as { results: { id: string }[] };
        assert.deepEqual(results.map((p) => p.id).sort(), ['0', 'escalations']);
      }
      const portal = stageline.portal('a');
      const snapshot = await portal.snapshot();
      assert.equal(snapshot.objectTypes.deals?.records?.[0]?.properties?.dealname, 'Seeded deal');
      assert.deepEqual(
        snapshot.objectTypes.deals?.pipelines?.map((p) => p.id),
        ['sales'],
      );
    } finally {
      await stageline.close();
    }
  });
});
