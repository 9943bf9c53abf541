/**
 * Every name Shekara's telemetry uses, in one place (as tessera's `otel.go` does): the tracer
 * and meter, each span, each attribute key, each metric with its unit and description. A
 * dashboard, an alert or a trace query is written against this file; nothing else in the code
 * spells a telemetry name.
 *
 * What an attribute may hold (docs/observability.md "What is never recorded"): ids the gateway
 * made (record id, outbox id), OEM and purpose ids, channel, outcome, HTTP status, destination
 * host and country. NEVER a VIN, a pseudonym, a payload, a signal value, account data, a
 * credential — and never the MQTT topic, which names the VIN (`vehicles/{VIN}/telemetry`).
 */

export const TRACER_NAME = 'shekara';
export const METER_NAME = 'shekara';

/** Span names. One trace per record: receive → project, commit → produce → consume → deliver. */
export const SPAN = {
  /** Root: a car's message arrived (MQTT PUBLISH or HTTPS POST) until it is durably stored. */
  receive: 'shekara.ingest.receive',
  /** The policy projection of the record (all purposes of its OEM at once). */
  project: 'shekara.policy.project',
  /** Waiting for, and taking part in, the group commit that makes the record durable. */
  commit: 'shekara.store.commit',
  /** Kafka mode: one outbox row published to its OEM topic, until the broker acknowledged (acks=all). */
  produce: 'shekara.egress.produce',
  /** An outbox row taken off the egress queue (Kafka message or local outbox row) until its outcome is durable. */
  consume: 'shekara.egress.consume',
  /** One delivery attempt: send-time checks and the HTTP POST to the OEM. */
  deliver: 'shekara.egress.deliver',
} as const;

/** Attribute keys. `shekara.*` are ours; the others are OpenTelemetry semantic conventions. */
export const ATTR = {
  channel: 'shekara.channel',
  recordId: 'shekara.record_id',
  outboxId: 'shekara.outbox_id',
  oem: 'shekara.oem',
  purpose: 'shekara.purpose',
  outcome: 'shekara.outcome',
  reason: 'shekara.reason',
  projections: 'shekara.projections',
  commitBatch: 'shekara.commit.batch_size',
  attempt: 'shekara.attempt',
  destinationCountry: 'shekara.destination.country',
  queue: 'shekara.queue',
  // OpenTelemetry semantic conventions (messaging, HTTP client).
  messagingSystem: 'messaging.system',
  messagingOperation: 'messaging.operation.type',
  messagingDestination: 'messaging.destination.name',
  messagingPartition: 'messaging.destination.partition.id',
  messagingBatchCount: 'messaging.batch.message_count',
  httpMethod: 'http.request.method',
  httpStatus: 'http.response.status_code',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  errorType: 'error.type',
} as const;

export interface MetricName {
  readonly name: string;
  readonly unit: string;
  readonly description: string;
}

/**
 * Metric names (under `shekara.`). Prometheus sees dots as underscores and counters with a
 * `_total` suffix: `shekara.ingest.messages` is scraped as `shekara_ingest_messages_total`.
 */
export const METRIC = {
  ingestMessages: {
    name: 'shekara.ingest.messages',
    unit: '{message}',
    description: 'Payloads from authenticated cars, by channel and outcome (stored, quarantined, backpressure, error)',
  },
  ingestRejects: {
    name: 'shekara.ingest.rejects',
    unit: '{reject}',
    description: 'Refusals at ingest (authentication, ACL, limits), by channel and reason',
  },
  ingestClockSkew: {
    name: 'shekara.ingest.clock_skew',
    unit: '{record}',
    description:
      "Records stored with the car's time far from the time of receipt, by channel and reason (ahead, behind)",
  },
  policyDecisions: {
    name: 'shekara.policy.decisions',
    unit: '{decision}',
    description: 'Per record and OEM purpose: approved, or why nothing was approved',
  },
  egressBacklog: {
    name: 'shekara.egress.backlog',
    unit: '{row}',
    description: 'Outbox rows not yet handed on (pending)',
  },
  egressLag: {
    name: 'shekara.egress.lag',
    unit: 's',
    description:
      'How long the most overdue pending outbox row has been due without being taken (0 when none is overdue)',
  },
  egressOutboxDepth: {
    name: 'shekara.egress.outbox.depth',
    unit: '{row}',
    description: 'Per OEM: outbox rows not yet settled (pending, or published to Kafka and not yet delivered)',
  },
  egressOutboxOldestAge: {
    name: 'shekara.egress.outbox.oldest_age',
    unit: 's',
    description: 'Per OEM: how long ago the record of the oldest outbox row not yet settled arrived',
  },
  egressInFlight: {
    name: 'shekara.egress.in_flight',
    unit: '{delivery}',
    description: 'Deliveries in flight right now',
  },
  egressPostsInFlight: {
    name: 'shekara.egress.posts.in_flight',
    unit: '{request}',
    description: "Per OEM: delivery POSTs on the wire right now (at most the OEM's batch.maxInFlight)",
  },
  egressPostsWaiting: {
    name: 'shekara.egress.posts.waiting',
    unit: '{request}',
    description: "Per OEM: delivery POSTs waiting for a slot under the OEM's batch.maxInFlight",
  },
  egressDeliveries: {
    name: 'shekara.egress.deliveries',
    unit: '{attempt}',
    description: 'Delivery attempts, by OEM and outcome (delivered, failed, dead-lettered, blocked)',
  },
  egressDeliveryDuration: {
    name: 'shekara.egress.delivery.duration',
    unit: 's',
    description: 'One delivery attempt: send-time checks and the HTTP exchange with the OEM',
  },
  egressRecordAge: {
    name: 'shekara.egress.record.age',
    unit: 's',
    description: 'Car to OEM: from the gateway receiving the record to the OEM acknowledging it',
  },
  auditIntegrationDelay: {
    name: 'shekara.audit.integration.delay',
    unit: 's',
    description:
      'From an outcome settled to its entry integrated into the egress log (seq, leaf index): the oldest entry of each integration round',
  },
  auditStaged: {
    name: 'shekara.audit.staged',
    unit: '{entry}',
    description: 'Outcomes settled but not yet integrated into the egress log (PostgreSQL; always 0 on SQLite)',
  },
  auditIntegrationAge: {
    name: 'shekara.audit.integration.age',
    unit: 's',
    description:
      'How long the oldest outcome not yet integrated into the egress log has waited (0 when none waits; always 0 on SQLite): the integration bound, live',
  },
  auditSelfCheckFailed: {
    name: 'shekara.audit.self_check.failed',
    unit: '1',
    description:
      'Whether the stored egress log failed the gateway own check (1) or not (0): while 1, no checkpoint is signed (SHK_AUDIT_SELF_CHECK or SHK_AUDIT_PROOF in the log)',
  },
  ledgerThresholdFraction: {
    name: 'shekara.ledger.threshold.fraction',
    unit: '1',
    description:
      'The calendar year cross-border ledger counter over its configured threshold (1 = reached), per scope (an OEM or all) and counter (persons, sensitivePersons, vehicles, records, bytes); recomputed at most every 5 minutes',
  },
  incidentNoticeDue: {
    name: 'shekara.incident.notice.due',
    unit: 's',
    description:
      'Seconds left until the notice of an incident is due (negative: overdue), per incident whose notice was not exported yet',
  },
  storeWriterBusy: {
    name: 'shekara.store.writer.busy',
    unit: 's',
    description:
      'SQLite file store: time the one writer thread spent in its turns (statements and the fsync of each commit); its rate is the thread busy share, near 1 every write of the process waits for it',
  },
  storeWriterLockWait: {
    name: 'shekara.store.writer.lock_wait',
    unit: 's',
    description: "SQLite file store: time the writer thread waited for the file's write lock (another thread writing)",
  },
  storeWriterTurns: {
    name: 'shekara.store.writer.turns',
    unit: '{transaction}',
    description: 'SQLite file store: transactions of the writer thread (each one fsync), ingest and outcomes together',
  },
  connections: {
    name: 'shekara.ingest.connections',
    unit: '{connection}',
    description: 'Open MQTT connections of the embedded broker',
  },
} as const satisfies Record<string, MetricName>;

/** Histogram buckets in seconds: a local OEM answers in milliseconds, one abroad in hundreds; the record age spans retries. */
export const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];
