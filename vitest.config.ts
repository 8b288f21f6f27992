import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Integration suites start real emulators (DynamoDB Local is a JVM); two cores here, so keep
    // the number of files running at once small.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
