// Runs the Vitest example against this repository's source; an integration that installed
// `stageline` needs no alias.
import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: { stageline: fileURLToPath(new URL('../../src/index.ts', import.meta.url)) },
  },
  test: { include: ['examples/vitest/*.test.ts'], testTimeout: 20_000 },
});
