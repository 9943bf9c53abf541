import { defineConfig } from 'vitest/config';

/**
 * `npm run test:unit`: the tests of one module at a time — no sockets, no child processes, no
 * Kafka, no PostgreSQL — in seconds, for the edit–test loop. `npm test` still runs everything
 * (these first, as its `unit` project: vitest.config.ts); this is a fast subset, never a
 * replacement.
 *
 * The list is by file. test/setup/unit-guard.ts makes a listed file fail if it opens a listening
 * socket, connects out, or spawns a process, so the list cannot quietly grow an integration test.
 * `npm test` runs these files in shared worker threads that keep modules loaded between files
 * (isolate: false): a listed file MUST NOT mock modules, change process.env or other globals
 * without restoring them, or depend on module state being fresh.
 */
export const UNIT_FILES = [
  'test/api/error-handler.test.ts',
  'test/api/schema-compilers.test.ts',
  'test/audit/checkpoint-format.test.ts',
  'test/audit/egress-tree.test.ts',
  'test/audit/merkle-vectors.test.ts',
  'test/bench/profile-summary.test.ts',
  'test/bench/reid.test.ts',
  'test/bench/report.test.ts',
  'test/cli/frictions.test.ts',
  'test/config/gbt32960-config.test.ts',
  'test/console/strings.test.ts',
  'test/console/verify.test.ts',
  'test/decoder.test.ts',
  'test/egress/backlog-gate.test.ts',
  'test/egress/destination.test.ts',
  'test/egress/lease.test.ts',
  'test/egress/local-queue-refill.test.ts',
  'test/egress/record-facts.test.ts',
  'test/errors-documented.test.ts',
  'test/helpers/wait.test.ts',
  'test/house-rules.test.ts',
  'test/incidents/calendar.test.ts',
  'test/ingest/committer.test.ts',
  'test/ingest/credentials.test.ts',
  'test/ingest/gbt32960/codec.test.ts',
  'test/ingest/gbt32960/fuzz.test.ts',
  'test/ingest/intake-pushback.test.ts',
  'test/ingest/packet-guard.test.ts',
  'test/json-strict.test.ts',
  'test/keys/store-key-env.test.ts',
  'test/policy/classes.test.ts',
  'test/policy/commands.test.ts',
  'test/policy/delivery-ids.test.ts',
  'test/policy/identifiers.test.ts',
  'test/policy/lifecycle.test.ts',
  'test/policy/min-interval-restart.test.ts',
  'test/policy/objections.test.ts',
  'test/policy/policy.test.ts',
  'test/policy/properties.test.ts',
  'test/policy/pseudonym.test.ts',
  'test/policy/record-rules.test.ts',
  'test/policy/registry-engine.test.ts',
  'test/policy/released-cells.test.ts',
  'test/policy/released-zones.test.ts',
  'test/policy/state.test.ts',
  'test/policy/trip.test.ts',
  'test/reports/evidence.test.ts',
  'test/setup/shared-fork-files.test.ts',
  'test/telemetry/config.test.ts',
  'test/thread-entry.test.ts',
];

export default defineConfig({
  test: {
    include: UNIT_FILES,
    setupFiles: ['test/setup/unit-guard.ts'],
    testTimeout: 30_000,
  },
});
