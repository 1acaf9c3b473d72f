// Runs the Jest example against this repository's source, TypeScript compiled by esbuild; an
// integration that installed `stageline` maps nothing.
export default {
  rootDir: '../..',
  testMatch: ['<rootDir>/examples/jest/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '\\.ts$': '<rootDir>/examples/jest/esbuild-transform.mjs' },
  moduleNameMapper: {
    '^stageline/testing$': '<rootDir>/src/testing.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: 20_000,
};
