/** Jest runs the TypeScript sources as native ESM (oidc-provider and jose are ESM-only). */
export default {
  // jest's node environment; a worker still alive after it was asked to end says why (the file's header).
  testEnvironment: '<rootDir>/test/open-handles-environment.js',
  // On CI a failed test is tried once more, its first failure printed (the file's header).
  setupFilesAfterEnv: ['<rootDir>/test/jest-ci-retry.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  roots: ['<rootDir>/hub', '<rootDir>/subsite-kit', '<rootDir>/demo-sites', '<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // The kit from its sources, as tsconfig.base.json's `paths` does for tsc and tsx.
    '^@sso-hub/subsite-kit$': '<rootDir>/subsite-kit/src/index.ts',
  },
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } }],
  },
  testTimeout: 30000,
  maxWorkers: 2,
  // A worker is replaced once its heap passes this after a test file. Every file's ESM modules stay in
  // the worker's heap (2.4 GB each by the end of a run), and a process that large takes longer than the
  // 500 ms jest allows it to exit: "A worker process has failed to exit gracefully", with no handle open.
  workerIdleMemoryLimit: '1GB',
};
