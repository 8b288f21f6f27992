import { defineConfig } from 'vitest/config';

/** Test directories that need the shared emulators (DynamoDB Local, fauxqs) of the global setup. */
const WITH_SERVICES = ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Integration suites start real emulators (DynamoDB Local is a JVM); two cores here, so keep
    // the number of files running at once small.
    maxWorkers: 2,
    reporters: ['default'],
    // Three projects so that pure tests never pay for the emulators: `npm run test:unit` runs only
    // `unit` (test/unit holds pure tests only: no emulator, port or child process), and the global
    // setup starts DynamoDB Local and fauxqs only for `services`.
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'infra', include: ['test/infra/**/*.test.ts'] } },
      { extends: true, test: { name: 'services', include: WITH_SERVICES, globalSetup: ['test/support/global-setup.ts'] } },
    ],
  },
});
