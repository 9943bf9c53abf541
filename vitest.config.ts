import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A real Kafka broker for the egress tests (deploy/kafka.sh), started once per run.
    globalSetup: ['test/setup/kafka.ts'],
    // Integration tests open real sockets and real databases; keep them apart in time
    // so two suites never fight over the same CPU-bound broker on a 2-core machine.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
