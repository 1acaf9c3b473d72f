// `stageline pipelines pull | diff | apply | map`, the real CLI in a child process, against
// in-process Stageline servers (open mode: each token is its own portal).

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { startStageline } from '../src/index.js';
import type { RunningStageline } from '../src/index.js';
import { spawnCli, spawnCliOnTerminal } from './helpers/cli-process.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function collect(child: ReturnType<typeof spawnCli>): Promise<Run> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

const ESC = '\u001b[';

describe('stageline pipelines', () => {
  let server: RunningStageline;
  let dir: string;
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => collect(spawnCli(['pipelines', ...args], env));
  const at = (token: string) => ['--url', server.url, '--token', token];

  before(async () => {
    server = await startStageline();
    dir = await mkdtemp(join(tmpdir(), 'stageline-pipelines-'));
    const post = (path: string, body: unknown) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { authorization: 'Bearer production', 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(async (res) => {
        assert.equal(res.status, 201);
        return (await res.json()) as { id: string; stages: { id: string }[] };
      });
    const partners = await post('/crm/v3/pipelines/deals', {
      label: 'Partners',
      displayOrder: 1,
      stages: [
        { label: 'Intro', displayOrder: 0, metadata: { probability: '0.1' } },
        { label: 'Signed', displayOrder: 1, metadata: { probability: '1.0' } },
      ],
    });
    await post('/crm/v3/objects/deals', {
      properties: { dealname: 'Acme', pipeline: partners.id, dealstage: partners.stages[0]!.id },
    });
  });

  after(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('pulls a portal to YAML (JSON by extension) in a stable order, without records unless asked', async () => {
    const file = join(dir, 'pipelines.yaml');
    const pulled = await cli(['pull', ...at('production'), '--out', file]);
    assert.equal(pulled.code, 0, pulled.stderr);
    const yaml = await readFile(file, 'utf8');
    assert.match(yaml, /^version: 1\nobjectTypes:\n {2}deals:\n {4}pipelines:\n {6}- id: default\n/);
    assert.match(yaml, /label: Partners/);
    assert.doesNotMatch(yaml, /records/);

    // The token from HUBSPOT_TOKEN; the same portal gives the same text.
    const again = await cli(['pull', '--url', server.url], { HUBSPOT_TOKEN: 'production' });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, yaml);

    const json = join(dir, 'pipelines.json');
    assert.equal((await cli(['pull', ...at('production'), '--out', json, '--records'])).code, 0);
    const doc = JSON.parse(await readFile(json, 'utf8')) as {
      objectTypes: { deals: { records: { id: string; pipeline: string; stage: string }[] } };
    };
    assert.equal(doc.objectTypes.deals.records.length, 1);
    assert.deepEqual(Object.keys(doc.objectTypes.deals.records[0]!), ['id', 'pipeline', 'stage']);
  });

  it('diffs (exit 2 on changes), applies, maps ids, and diffs clean (exit 0)', async () => {
    const file = join(dir, 'source.yaml');
    assert.equal((await cli(['pull', ...at('production'), '--out', file])).code, 0);

    const diff = await cli(['diff', file, ...at('ci')]);
    assert.equal(diff.code, 2, diff.stderr);
    assert.match(diff.stdout, /deals:\n {2}\+ create pipeline "Partners" \(\d+\) with 2 stages\n/);
    assert.match(diff.stdout, /tickets:\n {2}no changes\n/);
    assert.match(diff.stdout, /Plan: 1 to create, 0 to update, 0 to reorder, 0 to archive\./);
    assert.ok(!diff.stdout.includes(ESC), 'no colour when stdout is not a terminal');

    const json = await cli(['diff', file, ...at('ci'), '--json']);
    assert.equal(json.code, 2);
    const plan = JSON.parse(json.stdout) as { changes: boolean; counts: { create: number } };
    assert.equal(plan.changes, true);
    assert.equal(plan.counts.create, 1);

    const mapFile = join(dir, 'map.json');
    const applied = await cli(['apply', file, ...at('ci'), '--map-out', mapFile]);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stderr, /^applying deals\/Partners \(pipeline 1, call 1 of 1\)$/m);
    const map = JSON.parse(await readFile(mapFile, 'utf8')) as Record<
      string,
      { pipelines: Record<string, string> }
    >;
    assert.equal(map.deals?.pipelines.default, 'default');

    const printed = await cli(['map', file, ...at('ci')]);
    assert.equal(printed.code, 0, printed.stderr);
    assert.deepEqual(JSON.parse(printed.stdout), map);

    const clean = await cli(['diff', file, ...at('ci')]);
    assert.equal(clean.code, 0, clean.stdout);
    assert.match(clean.stdout, /No changes\./);
    const second = await cli(['apply', file, ...at('ci')]);
    assert.equal(second.code, 0);
    assert.match(second.stderr, /Applied 0 change\(s\)\./);
  });

  it("gives a file `stageline exec --seed` starts a test run from (the README's workflow)", async () => {
    const file = join(dir, 'for-ci.yaml');
    assert.equal((await cli(['pull', ...at('production'), '--out', file])).code, 0);
    const run = await collect(
      spawnCli([
        'exec',
        '--seed',
        file,
        '--',
        process.execPath,
        '--input-type=module',
        '-e',
        `const res = await fetch(process.env.STAGELINE_URL + '/crm/v3/pipelines/deals', { headers: { authorization: 'Bearer any' } });
         console.log((await res.json()).results.map((p) => p.label).join(','));`,
      ]),
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'Sales Pipeline,Partners');
  });

  it('refuses to archive without --yes when it cannot ask, and archives nothing without --prune', async () => {
    const file = join(dir, 'only-tickets.yaml');
    await writeFile(
      file,
      [
        'objectTypes:',
        '  deals:',
        '    pipelines:',
        '      - id: default',
        '        label: Sales Pipeline',
        '        displayOrder: 0',
        '        stages:',
        '          - { id: closedwon, label: Closed Won, displayOrder: 0, metadata: { probability: 1 } }',
        '',
      ].join('\n'),
    );
    const before = await cli(['diff', file, ...at('production'), '--json']);
    assert.equal(before.code, 2);
    const archives = (JSON.parse(before.stdout) as { counts: { archive: number } }).counts.archive;
    assert.ok(archives > 1);

    const refused = await cli(['apply', file, ...at('production'), '--prune']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /refusing to archive \d+ pipeline\(s\)\/stage\(s\) without --yes/);
    const kept = await cli(['apply', file, ...at('production')]);
    assert.equal(kept.code, 0, kept.stderr);
    assert.match(kept.stderr, /pass --prune to archive them/);
    const after = await cli(['diff', file, ...at('production'), '--json']);
    assert.equal((JSON.parse(after.stdout) as { counts: { archive: number } }).counts.archive, archives);
  });

  it('writes --map-out with what was created when the apply stops on an error', async () => {
    const file = join(dir, 'half.yaml');
    // The ticket pipeline has no CLOSED stage: the portal refuses it, after the deal pipeline is made.
    await writeFile(
      file,
      [
        'objectTypes:',
        '  deals:',
        '    keepDefaultPipelines: true',
        '    pipelines:',
        '      - id: made',
        '        label: Made',
        '        displayOrder: 1',
        '        stages: [{ id: made-1, label: One, displayOrder: 0, metadata: { probability: 0.5 } }]',
        '  tickets:',
        '    keepDefaultPipelines: true',
        '    pipelines:',
        '      - id: refused',
        '        label: Refused',
        '        displayOrder: 1',
        '        stages: [{ id: refused-1, label: Open, displayOrder: 0, metadata: { ticketState: OPEN } }]',
        '',
      ].join('\n'),
    );
    const mapFile = join(dir, 'half-map.json');
    const applied = await cli(['apply', file, ...at('half'), '--map-out', mapFile]);
    assert.equal(applied.code, 1, applied.stderr);
    assert.match(applied.stderr, /tickets\/Refused: create pipeline with 1 stages failed: HTTP 400/);
    assert.match(applied.stderr, /Done \(1\):\n {2}deals\/Made: create pipeline/);
    assert.deepEqual(JSON.parse(await readFile(mapFile, 'utf8')), {
      deals: { pipelines: { made: 'made' }, stages: { 'made-1': 'made-1' } },
      tickets: { pipelines: { refused: null }, stages: { 'refused-1': null } },
    });
  });

  it('reports a YAML error with its line and column, and a schema error with its path (exit 1)', async () => {
    const broken = join(dir, 'broken.yaml');
    await writeFile(broken, 'objectTypes:\n  deals:\n    pipelines: [\n      { id: x, label: "open\n');
    const syntax = await cli(['diff', broken, ...at('ci')]);
    assert.equal(syntax.code, 1);
    assert.match(
      syntax.stderr,
      /broken\.yaml:5: the document: not valid YAML or JSON \(line 5, column 1\): Missing closing "quote/,
    );

    const invalid = join(dir, 'invalid.yaml');
    await writeFile(
      invalid,
      'objectTypes:\n  deals:\n    pipelines:\n      - id: x\n        label: X\n        displayOrder: first\n        stages: []\n',
    );
    const schema = await cli(['apply', invalid, ...at('ci')]);
    assert.equal(schema.code, 1);
    assert.match(
      schema.stderr,
      /invalid\.yaml:6: objectTypes\.deals\.pipelines\[0\]\.displayOrder must be integer/,
    );
  });

  it('colours the plan on a terminal', async () => {
    const file = join(dir, 'new-pipeline.yaml');
    await writeFile(
      file,
      'objectTypes:\n  deals:\n    keepDefaultPipelines: true\n    pipelines:\n      - id: partners\n        label: Partners\n        displayOrder: 1\n        stages: [{ id: intro, label: Intro, displayOrder: 0, metadata: { probability: 0.1 } }]\n',
    );
    const run = await collect(spawnCliOnTerminal(['pipelines', 'diff', file, ...at('elsewhere')]));
    assert.ok(run.stdout.includes(`${ESC}32m  + create pipeline "Partners" (partners)`), run.stdout);
  });

  it('on a terminal, asks before archiving and draws a progress bar', async () => {
    const file = join(dir, 'prune.yaml');
    await writeFile(
      file,
      'objectTypes:\n  tickets:\n    pipelines:\n      - id: "0"\n        label: Support Pipeline\n        displayOrder: 0\n        stages:\n          - { id: "1", label: New, displayOrder: 0, metadata: { ticketState: OPEN } }\n          - { id: "4", label: Closed, displayOrder: 1, metadata: { ticketState: CLOSED } }\n',
    );
    const child = spawnCliOnTerminal(['pipelines', 'apply', file, ...at('terminal'), '--prune'], {
      stdin: 'pipe',
    });
    const run = collect(child);
    let seen = '';
    await new Promise<void>((resolve) => {
      const onData = (d: Buffer | string) => {
        seen += String(d);
        if (!seen.includes('Archive 2 pipeline(s)/stage(s)? [y/N]')) return;
        child.stdout?.off('data', onData);
        child.stdin?.write('y\n');
        resolve();
      };
      child.stdout?.on('data', onData);
    });
    const { code, stdout } = await run;
    assert.equal(code, 0, stdout);
    assert.match(stdout, /\[#{30}\] 3\/3 tickets\/Support Pipeline/);
    const res = await fetch(`${server.url}/crm/v3/pipelines/tickets/0/stages`, {
      headers: { authorization: 'Bearer terminal' },
    });
    const { results } = (await res.json()) as { results: { label: string }[] };
    assert.deepEqual(
      results.map((s) => s.label),
      ['New', 'Closed'],
    );
  });

  it('archives without asking with --prune --yes', async () => {
    const file = join(dir, 'prune-yes.yaml');
    await writeFile(
      file,
      'objectTypes:\n  tickets:\n    pipelines:\n      - id: "0"\n        label: Support Pipeline\n        displayOrder: 0\n        stages:\n          - { id: "4", label: Closed, displayOrder: 0, metadata: { ticketState: CLOSED } }\n',
    );
    const applied = await cli(['apply', file, ...at('yes'), '--prune', '--yes']);
    assert.equal(applied.code, 0, applied.stderr);
    const clean = await cli(['diff', file, ...at('yes')]);
    assert.equal(clean.code, 0, clean.stdout);
  });
});
