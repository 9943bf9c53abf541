/**
 * Schema migrations, applied in order; PRAGMA user_version records how far a file has come.
 * Never edit a shipped migration: add the next one.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE vehicles (
    vin          TEXT PRIMARY KEY,
    oem          TEXT NOT NULL,
    secret_hash  BLOB NOT NULL,
    secret_salt  BLOB NOT NULL,
    created_at   INTEGER NOT NULL
  ) STRICT;

  -- Raw records as received, with the decoded canonical record (minus account data).
  CREATE TABLE records (
    id           TEXT PRIMARY KEY,
    vin          TEXT NOT NULL,
    oem          TEXT NOT NULL,
    channel      TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    observed_at  INTEGER NOT NULL,
    signals      TEXT NOT NULL,
    unknown_keys TEXT NOT NULL,
    raw          BLOB NOT NULL
  ) STRICT;
  CREATE INDEX records_vin_time ON records (vin, observed_at);

  CREATE TABLE route_points (
    record_id    TEXT PRIMARY KEY REFERENCES records (id) ON DELETE CASCADE,
    vin          TEXT NOT NULL,
    observed_at  INTEGER NOT NULL,
    latitude     REAL NOT NULL,
    longitude    REAL NOT NULL,
    speed        REAL
  ) STRICT;
  CREATE INDEX route_points_vin_time ON route_points (vin, observed_at);

  -- Personal data, kept apart so retention and erasure can treat it on its own.
  CREATE TABLE account_data (
    record_id    TEXT PRIMARY KEY REFERENCES records (id) ON DELETE CASCADE,
    vin          TEXT NOT NULL,
    data         TEXT NOT NULL
  ) STRICT;

  CREATE TABLE quarantine (
    id           TEXT PRIMARY KEY,
    vin          TEXT NOT NULL,
    channel      TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    reason       TEXT NOT NULL,
    raw          BLOB NOT NULL
  ) STRICT;

  -- Approved projections waiting to cross. status: pending | delivered | dead
  CREATE TABLE egress_outbox (
    id              INTEGER PRIMARY KEY,
    record_id       TEXT NOT NULL REFERENCES records (id),
    oem             TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    policy_hash     TEXT NOT NULL,
    pseudonym       TEXT NOT NULL,
    fields_sent     TEXT NOT NULL,
    fields_dropped  TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER NOT NULL DEFAULT 0,
    UNIQUE (record_id, oem, purpose)
  ) STRICT;
  CREATE INDEX egress_outbox_due ON egress_outbox (next_attempt_at) WHERE status = 'pending';

  -- Every delivery, failed attempt and dead letter. Append-only; holds no personal data.
  CREATE TABLE egress_log (
    seq            INTEGER PRIMARY KEY,
    at             INTEGER NOT NULL,
    oem            TEXT NOT NULL,
    destination    TEXT NOT NULL,
    record_id      TEXT NOT NULL,
    pseudonym      TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    policy_hash    TEXT NOT NULL,
    fields_sent    TEXT NOT NULL,
    fields_dropped TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    attempt        INTEGER NOT NULL,
    http_status    INTEGER,
    error          TEXT
  ) STRICT;
  CREATE INDEX egress_log_record ON egress_log (record_id);
  CREATE TRIGGER egress_log_no_update BEFORE UPDATE ON egress_log
    BEGIN SELECT RAISE(ABORT, 'egress_log is append-only'); END;
  CREATE TRIGGER egress_log_no_delete BEFORE DELETE ON egress_log
    BEGIN SELECT RAISE(ABORT, 'egress_log is append-only'); END;

  -- Key material that never leaves the country (pseudonymization, signing).
  CREATE TABLE local_secrets (
    name   TEXT PRIMARY KEY,
    value  BLOB NOT NULL
  ) STRICT;
  `,
];
