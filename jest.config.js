/** @type {import('jest').Config} */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];

module.exports = {
  // Integration: the emulator canaries run first. Other projects keep Jest's default order.
  testSequencer: '<rootDir>/integration/harness/sequencer.js',
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/test/smoke/'],
      transform: { '^.+\\.ts$': tsJest },
      collectCoverageFrom: ['lambda/runtime/**/*.ts'],
    },
    {
      displayName: 'smoke',
      testEnvironment: 'node',
      roots: ['<rootDir>/test/smoke'],
      testMatch: ['**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      // The gates over every synthesized template (test/gates/gates.gate.ts): cfn-lint, cdk-nag,
      // acknowledgement reasons, secure defaults. No emulator; needs the build (dist/lambda).
      displayName: 'gates',
      testEnvironment: 'node',
      roots: ['<rootDir>/test/gates'],
      testMatch: ['**/*.gate.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      roots: ['<rootDir>/integration'],
      testMatch: ['**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
      globalSetup: '<rootDir>/integration/harness/global-setup.ts',
      globalTeardown: '<rootDir>/integration/harness/global-teardown.ts',
    },
  ],
};
