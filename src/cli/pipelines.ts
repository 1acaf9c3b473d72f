/**
 * `stageline pipelines pull | diff | apply | map`: pipelines as code, against any
 * HubSpot-compatible base URL (HubSpot itself or a Stageline). Exit codes: 0 success (diff: no
 * changes), 2 (diff: changes), 1 any error.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { Option } from 'commander';
import type { Command } from 'commander';

import type { SeedDocument } from '../seed/seed-document.js';
import type { ConnectOptions } from '../pipelines-as-code/client.js';
import type { Plan } from '../pipelines-as-code/plan.js';
import { DEFAULT_TYPES, DEFAULT_URL } from '../pipelines-as-code/defaults.js';

/** The commands' machinery, with the SDK: loaded when a pipelines command runs, not on every start. */
const load = async () => {
  const [seed, apply, client, map, plan, pull, render] = await Promise.all([
    import('../seed/seed-document.js'),
    import('../pipelines-as-code/apply.js'),
    import('../pipelines-as-code/client.js'),
    import('../pipelines-as-code/map.js'),
    import('../pipelines-as-code/plan.js'),
    import('../pipelines-as-code/pull.js'),
    import('../pipelines-as-code/render.js'),
  ]);
  return { ...seed, ...apply, ...client, ...map, ...plan, ...pull, ...render };
};

interface PortalFlags {
  url: string;
  token?: string;
}

const ERROR = 1;
const CHANGES = 2;

/** Runs a subcommand; any error is printed and exits 1 (terraform's convention). */
const guarded =
  <A extends unknown[]>(work: (...args: A) => Promise<number | void>) =>
  async (...args: A): Promise<void> => {
    let code: number;
    try {
      code = (await work(...args)) ?? 0;
    } catch (err) {
      process.stderr.write(`stageline pipelines: ${err instanceof Error ? err.message : String(err)}\n`);
      code = ERROR;
    }
    process.exitCode = code;
  };

function connection(flags: PortalFlags): ConnectOptions {
  if (flags.token === undefined || flags.token === '') {
    throw new Error('no token: pass --token or set HUBSPOT_TOKEN');
  }
  return { url: flags.url, token: flags.token };
}

function withPortal(command: Command): Command {
  return command
    .addOption(
      new Option('--url <url>', 'base URL of the portal: HubSpot or a Stageline').default(DEFAULT_URL),
    )
    .addOption(new Option('--token <token>', 'access token of the portal').env('HUBSPOT_TOKEN'));
}

async function readDocument(file: string): Promise<SeedDocument> {
  const pac = await load();
  return pac.parseSeedText(await readFile(file, 'utf8'), file).document;
}

async function planFor(flags: PortalFlags, file: string): Promise<{ plan: Plan; options: ConnectOptions }> {
  const pac = await load();
  const desired = await readDocument(file);
  const options = connection(flags);
  return { plan: await pac.planAgainst(pac.connectPortal(options), desired), options };
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export function addPipelinesCommands(program: Command): void {
  const pipelines = program
    .command('pipelines')
    .description('Pipelines as code: pull a portal to a file, diff and apply a file to a portal')
    .addHelpText(
      'after',
      `
Examples:
  HUBSPOT_TOKEN=pat-… stageline pipelines pull --out pipelines.yaml
  stageline pipelines diff pipelines.yaml --url http://127.0.0.1:3000 --token t
  stageline exec --seed pipelines.yaml -- npm test`,
    );

  withPortal(
    pipelines
      .command('pull')
      .description("Write the portal's pipelines and stages as a seed document (YAML; JSON for a .json file)")
      .option('--types <list>', 'object types, comma-separated', DEFAULT_TYPES.join(','))
      .option('--records', "include each record's id, pipeline and stage")
      .option('-o, --out <file>', 'output file (default: stdout)'),
  ).action(
    guarded(async (flags: PortalFlags & { types: string; records?: boolean; out?: string }) => {
      const pac = await load();
      const options = connection(flags);
      const types = flags.types
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== '');
      const doc = await pac.pullDocument(pac.connectPortal(options), {
        types,
        records: flags.records ? (type) => pac.listRecords(options, type) : undefined,
        onRefused: (type, message) => process.stderr.write(`skipped ${type}: ${message}\n`),
      });
      const text = pac.formatDocument(doc, flags.out);
      if (flags.out === undefined) process.stdout.write(text);
      else {
        await writeFile(flags.out, text);
        process.stderr.write(`Wrote ${Object.keys(doc.objectTypes).length} type(s) to ${flags.out}\n`);
      }
    }),
  );

  withPortal(
    pipelines
      .command('diff')
      .description('Show what apply would change; exit 0 no changes, 2 changes, 1 error')
      .argument('<file>', 'a seed document (YAML or JSON)')
      .option('--json', 'print the plan as JSON'),
  ).action(
    guarded(async (file: string, flags: PortalFlags & { json?: boolean }) => {
      const pac = await load();
      const { plan } = await planFor(flags, file);
      process.stdout.write(
        flags.json ? pac.planJson(plan) : pac.renderPlan(plan, pac.useColour(process.stdout)),
      );
      return pac.hasChanges(plan) ? CHANGES : 0;
    }),
  );

  withPortal(
    pipelines
      .command('apply')
      .description('Make the portal match the file (archives only with --prune)')
      .argument('<file>', 'a seed document (YAML or JSON)')
      .option('--prune', 'archive pipelines and stages the file leaves out')
      .option('--yes', 'archive without asking')
      .option('--map-out <file>', 'write the map of source ids to target ids'),
  ).action(
    guarded(
      async (file: string, flags: PortalFlags & { prune?: boolean; yes?: boolean; mapOut?: string }) => {
        const pac = await load();
        const { plan, options } = await planFor(flags, file);
        process.stdout.write(pac.renderPlan(plan, pac.useColour(process.stdout)));
        const archives = pac.countPlan(plan).archive;
        const prune = flags.prune === true && archives > 0;
        if (archives > 0 && !flags.prune) {
          process.stderr.write(
            `Leaving ${archives} pipeline(s)/stage(s) to archive alone: pass --prune to archive them.\n`,
          );
        }
        if (prune && !flags.yes) {
          if (!process.stdin.isTTY) {
            throw new Error(
              `refusing to archive ${archives} pipeline(s)/stage(s) without --yes in a non-interactive session`,
            );
          }
          if (!(await confirm(`Archive ${archives} pipeline(s)/stage(s)? [y/N] `))) {
            throw new Error('nothing applied: archiving was not confirmed');
          }
        }
        try {
          const result = await pac.applyPlan(pac.connectPortal(options), plan, {
            prune,
            onProgress: pac.progressReporter(process.stderr),
          });
          process.stderr.write(`Applied ${result.done.length} change(s).\n`);
          if (flags.mapOut !== undefined) await writeFile(flags.mapOut, pac.formatIdMap(result.map));
        } catch (err) {
          if (!(err instanceof pac.ApplyError)) throw err;
          // What was created before the failure has ids an integration may already need.
          if (flags.mapOut !== undefined) await writeFile(flags.mapOut, pac.formatIdMap(err.map));
          const list = (ops: readonly { description: string }[]) =>
            ops.length === 0 ? '  (none)' : ops.map((o) => `  ${o.description}`).join('\n');
          throw new Error(
            `${err.message}\nDone (${err.done.length}):\n${list(err.done)}\nNot done (${err.remaining.length + 1}):\n${list([err.failed, ...err.remaining])}`,
          );
        }
      },
    ),
  );

  withPortal(
    pipelines
      .command('map')
      .description(
        "Print a JSON map of the file's pipeline and stage ids to the portal's (null: not there yet)",
      )
      .argument('<file>', 'a seed document (YAML or JSON)'),
  ).action(
    guarded(async (file: string, flags: PortalFlags) => {
      const pac = await load();
      const { plan } = await planFor(flags, file);
      process.stdout.write(pac.formatIdMap(pac.emptyIdMap(plan)));
    }),
  );
}
