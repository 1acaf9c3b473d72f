// The README's "Testing your integration" examples are the files under examples/, shown in full,
// and run here as an integration would run them: node:test and Vitest in process, Jest under
// `stageline exec`. So they cannot rot.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { spawnCli } from './helpers/cli-process.js';

const root = new URL('../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

const EXAMPLES = [
  'examples/pipelines.yaml',
  'examples/node-test/integration.test.ts',
  'examples/vitest/integration.test.ts',
  'examples/jest/integration.test.ts',
];

function finish(child: ReturnType<typeof spawn>): Promise<{ code: number | null; output: string }> {
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (output += d));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
}

const cleanEnv = () => {
  // Plain output to match on: Vitest 4 colours its summary even when piped.
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  delete env.NODE_TEST_CONTEXT;
  delete env.NODE_OPTIONS;
  return env;
};

describe('README: Testing your integration', () => {
  const readme = read('README.md');
  const section = /\n## Testing your integration\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';

  it('shows every example file in full', () => {
    for (const file of EXAMPLES) {
      const fence = new RegExp(
        `\`\`\`(?:ts|yaml) ${file.replace(/[./]/g, '\\$&')}\\n([\\s\\S]*?)\`\`\``,
      ).exec(section);
      assert.ok(fence, `the README shows ${file}`);
      assert.equal(fence[1], read(file), `${file} as the README shows it`);
    }
  });

  it('the node:test example passes', async () => {
    const run = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', 'examples/node-test/integration.test.ts'],
      {
        cwd: root,
        env: cleanEnv(),
      },
    );
    const { code, output } = await finish(run);
    assert.equal(code, 0, output);
    assert.match(output, /# pass 6/);
  });

  it('the Vitest example passes', async () => {
    const run = spawn(
      process.execPath,
      ['node_modules/vitest/vitest.mjs', 'run', '--config', 'examples/vitest/vitest.config.ts'],
      { cwd: root, env: cleanEnv() },
    );
    const { code, output } = await finish(run);
    assert.equal(code, 0, output);
    assert.match(output, /Tests\s+6 passed/);
  });

  it('the Jest example passes under `stageline exec --seed`', async () => {
    const run = spawnCli([
      'exec',
      '--seed',
      'examples/pipelines.yaml',
      '--',
      process.execPath,
      '--experimental-vm-modules',
      'node_modules/jest/bin/jest.js',
      '--config',
      'examples/jest/jest.config.mjs',
    ]);
    const { code, output } = await finish(run);
    assert.equal(code, 0, output);
    assert.match(output, /Tests:\s+6 passed/);
  });
});
