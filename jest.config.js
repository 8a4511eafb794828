/** Jest runs the TypeScript sources as native ESM (oidc-provider and jose are ESM-only). */
export default {
  testEnvironment: 'node',
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
};
