/**
 * The shared vocabulary of the pipeline: the canonical record every decoder produces and the
 * projection a policy approves. Signal names are COVESA VSS paths; account data lives in its
 * own section because it is personal data by definition.
 */
export type SignalValue = number | string | boolean | readonly string[];

export type IngestChannel = 'mqtt' | 'https' | 'gbt32960';

/** How a car's time that cannot be trusted is off: ahead of the gateway's clock, or far behind it. */
export type ClockSkew = 'ahead' | 'behind';

export interface CanonicalRecord {
  /** Gateway id (UUIDv7, time-ordered): the idempotency key end to end. */
  readonly id: string;
  readonly vin: string;
  readonly oem: string;
  readonly channel: IngestChannel;
  /** Gateway clock, ms since epoch. */
  readonly receivedAt: number;
  /** Vehicle clock as reported, ms since epoch (receivedAt when the car sent none). */
  readonly observedAt: number;
  /**
   * Set when the car's time is within the accepted years but far from the time of receipt
   * (`ingest.clockAheadMaxSeconds` / `clockBehindMaxSeconds`): `observedAt` is kept as data, but
   * the policy's per-vehicle time limits use `receivedAt` instead. Absent: the car's time is plausible.
   */
  readonly clockSkew?: ClockSkew;
  /** VSS path → value, e.g. `Vehicle.Speed` → 54.2. */
  readonly signals: Readonly<Record<string, SignalValue>>;
  /** `Account.*` path → value: owner and driver data. Never leaves unless a policy names it. */
  readonly account: Readonly<Record<string, string>>;
  /** Payload keys the decoder did not recognise; kept in the raw record only, never sent. */
  readonly unknownKeys: readonly string[];
}

/** What a policy approved to leave for one OEM purpose. Holds no raw VIN. */
export interface Projection {
  /** The record it was made from: stays in the country (the egress log maps one to the other). */
  readonly recordId: string;
  /**
   * The only id the OEM receives (body, `Idempotency-Key`, `Shekara-Delivery-Id`): keyed per
   * OEM × purpose, no time inside, unrelated across purposes (src/policy/delivery-id.ts).
   */
  readonly deliveryId: string;
  readonly oem: string;
  readonly purpose: string;
  readonly policyHash: string;
  /**
   * Keyed pseudonym of the VIN for this OEM and epoch: in-country bookkeeping (per-vehicle order,
   * the egress log, owner reports). It crosses only when the purpose names the VIN, i.e. when
   * `Vehicle.VehicleIdentification.VIN` is among `fieldsSent` (src/store/outbox/rows.ts).
   */
  readonly vehicle: string;
  readonly observedAt: number;
  readonly signals: Readonly<Record<string, SignalValue>>;
  readonly fieldsSent: readonly string[];
  readonly fieldsDropped: readonly string[];
  /**
   * Why, per field: what the policy did (kept in the country for the operator and the
   * regulator). MUST NOT be put in the body sent to the OEM.
   */
  readonly decision?: ProjectionDecision;
  /**
   * `fieldsSent`, `fieldsDropped` and `decision` as the outbox stores them, with their digest
   * (src/store/outbox/shapes.ts): made by the policy once per distinct shape (src/policy/shape.ts)
   * and shared. It MUST be the shape of those three; absent, the store makes it from them.
   */
  readonly shape?: ProjectionShape;
}

/** A projection's field lists and decision as JSON texts, and the SHA-256 (hex) that names them in the outbox. */
export interface ProjectionShape {
  readonly digest: string;
  readonly fieldsSent: string;
  readonly fieldsDropped: string;
  /** null when the projection carries no decision. */
  readonly decision: string | null;
}

/** What the policy did with one field of a record, and why. */
export interface FieldDecision {
  readonly outcome: 'passed' | 'transformed' | 'dropped' | 'suppressed' | 'blocked';
  /** E.g. `not listed`, `generalized to H3 res 7`, `suppressed: trip start radius`. */
  readonly reason: string;
}

export interface ProjectionDecision {
  /** Record path (or `$unknown.KEY`) → what happened to it. */
  readonly fields: Readonly<Record<string, FieldDecision>>;
  /** Record-level notes, e.g. `held back until the car left the trip radius`. */
  readonly notes?: readonly string[];
}
