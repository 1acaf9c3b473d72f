// Builds the board (ui/) into dist/ui, which the server serves at /ui/ (src/http/plugins/board.ts).
// Also Vitest's configuration for the board's pure modules (ui/test/).
import { fileURLToPath } from 'node:url';

import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/ui/',
  plugins: [react()],
  build: {
    outDir: here('../dist/ui'),
    emptyOutDir: true,
    // No inline script anywhere: the CSP of /ui allows scripts from 'self' only.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
  },
  test: {
    root: here('.'),
    include: ['test/**/*.test.ts'],
    environment: 'node',
  },
});
