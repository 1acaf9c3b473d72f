// Jest's transform for the TypeScript of the example and of src/testing.ts: esbuild, which tsx
// already brings, compiles each file to an ES module.
import { transformSync } from 'esbuild';

export default {
  process(source, filename) {
    const { code, map } = transformSync(source, {
      loader: 'ts',
      format: 'esm',
      target: 'node20',
      sourcefile: filename,
      sourcemap: true,
    });
    return { code, map };
  },
};
