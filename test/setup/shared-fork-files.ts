/**
 * The `sqlite-shared` project (vitest.config.ts): files that run one after another in one forked
 * worker that keeps its imported modules (isolate: false). A fresh fork a file costs ~0.15 CPU-s
 * to start and ~0.4 to import src/app.js again; these files pay it once.
 *
 * A listed file MUST: start no child process (test/setup/shared-fork-guard.ts refuses one); leave
 * process.env and globals as it found them (the guard fails the file otherwise); close every
 * gateway, server and store it opens (the guard fails a file that leaves a socket listening); and
 * use no module-level state another file could see (counters that only make names unique are
 * fine). No vi.mock: the module cache is shared. test/setup/shared-fork-files.test.ts checks what
 * the source shows. A file joins after it passed here alone and in two shuffled orders.
 */
export const SHARED_FORK_FILES = [
  'test/api/access-log.test.ts',
  'test/api/admin-policy-catalog.test.ts',
  'test/api/api-admin.test.ts',
  'test/api/api-oem.test.ts',
  'test/api/api-owner-rights.test.ts',
  'test/api/api-owner.test.ts',
  'test/api/apikey-cli.test.ts',
  'test/api/authorization-matrix.test.ts',
  'test/api/commands-consent.test.ts',
  'test/api/commands-resend.test.ts',
  'test/api/commands.test.ts',
  'test/api/oem-equal.test.ts',
  'test/api/regulator.test.ts',
  'test/api/strict-input.test.ts',
  'test/api/workbench-incidents.test.ts',
  'test/api/workbench-reports.test.ts',
  'test/audit/egress-log-checkpoints.test.ts',
  'test/audit/self-check-thread.test.ts',
  'test/audit/self-check.test.ts',
  'test/audit/tamper.test.ts',
  'test/catalog/catalog.test.ts',
  'test/config/load.test.ts',
  'test/config/validators-generated.test.ts',
  'test/policy/shape.test.ts',
  'test/store/conformance-gbt32960.test.ts',
  'test/store/conformance-integrate.test.ts',
  'test/store/conformance-mqtt.test.ts',
  'test/store/conformance-oem.test.ts',
  'test/store/conformance-owner.test.ts',
  'test/store/conformance-policy-state.test.ts',
  'test/store/conformance-registry.test.ts',
  'test/store/conformance-settle.test.ts',
  'test/store/conformance-shapes.test.ts',
  'test/store/conformance-vehicle-auth.test.ts',
  'test/store/conformance.test.ts',
  'test/store/egress-log-payload.test.ts',
  'test/store/ingest-writer-crossing.test.ts',
  'test/store/ingest-writer.test.ts',
  'test/store/migrations.test.ts',
  'test/store/outbox-heads.test.ts',
  'test/store/pg-outbox-plan.test.ts',
  'test/store/pg.test.ts',
  'test/store/read-snapshot.test.ts',
  'test/store/relay-statements.test.ts',
  'test/store/retention-sweep.test.ts',
  'test/store/sqlite-car-indexes.test.ts',
  'test/store/trace-columns.test.ts',
  'test/store/write-lock.test.ts',
];
