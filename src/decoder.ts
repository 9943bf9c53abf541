/**
 * Decodes a car's telemetry JSON into the canonical record's signals and account section.
 * One table maps payload keys to COVESA VSS paths; anything not in the table is kept in the
 * raw record only and listed as unknown, so it can never egress by accident.
 *
 * Every value is typed by the signal catalog (src/catalog/): its VSS datatype, range and
 * allowed values. A value that does not fit quarantines the payload with the reason (the
 * same answer for a top-level key and a `signals` entry: a car sending a speed of 1e308 is
 * broken or forged, and half a record is not data). A `signals` path outside the catalog is
 * kept in the raw record and listed as unknown (`signals.PATH`), never egressed.
 *
 * Input rules (a payload breaking one is quarantined, never a 5xx or a dropped connection):
 * the JSON is parsed strictly (src/json-strict.ts: duplicate keys refused, null-prototype objects),
 * table lookups only see own entries (a key `constructor` is unknown, not `Object.prototype`'s),
 * and a reason names the field and the rule, never the value (reasons are logged and answered).
 */
import type { SignalValue } from './record.js';
import { checkValue, defaultCatalog, type Catalog } from './catalog/index.js';
import { hasNonText } from './text.js';
import { fieldName, JsonStrictError, parseStrictJson } from './json-strict.js';

export const VIN_SIGNAL = 'Vehicle.VehicleIdentification.VIN';
const VSS_PATH = /^Vehicle(\.[A-Za-z][A-Za-z0-9_]*)+$/;

export interface DecodedTelemetry {
  readonly observedAt: number | undefined;
  readonly signals: Record<string, SignalValue>;
  readonly account: Record<string, string>;
  readonly unknownKeys: string[];
}

export class DecodeError extends Error {}

/**
 * A string that is not text (src/text.ts) is refused: the payload is quarantined, raw bytes
 * kept, so both store backends accept exactly the same records.
 */
const text = (v: string, what: string): string => {
  if (hasNonText(v)) throw new DecodeError(`${what}: holds U+0000 or an unpaired surrogate, which is not text`);
  return v;
};

const str = (v: unknown, key: string): string => {
  if (typeof v !== 'string' || v.length > 256)
    throw new DecodeError(`${key}: expected a string of at most 256 characters`);
  return text(v, key);
};
/** `ignition: true` → the VSS state `ON`; anything but a boolean is refused. */
const onOff = (v: unknown, key: string): unknown => {
  if (typeof v !== 'boolean') throw new DecodeError(`${key}: expected true or false, got ${typeName(v)}`);
  return v ? 'ON' : 'OFF';
};

/** Payload key path → [VSS path, conversion before the catalog check]. The vocabulary of `shekara-json/1`. */
const SIGNALS: Readonly<Record<string, readonly [string, ((v: unknown, key: string) => unknown)?]>> = {
  'position.lat': ['Vehicle.CurrentLocation.Latitude'],
  'position.lon': ['Vehicle.CurrentLocation.Longitude'],
  'position.heading': ['Vehicle.CurrentLocation.Heading'],
  'position.altitude': ['Vehicle.CurrentLocation.Altitude'],
  speed: ['Vehicle.Speed'],
  odometer: ['Vehicle.TraveledDistance'],
  ignition: ['Vehicle.LowVoltageSystemState', onOff],
  'battery.soc': ['Vehicle.Powertrain.TractionBattery.StateOfCharge.Current'],
  'battery.voltage': ['Vehicle.LowVoltageBattery.CurrentVoltage'],
  fuelLevel: ['Vehicle.Powertrain.FuelSystem.RelativeLevel'],
  'cabin.temperature': ['Vehicle.Cabin.HVAC.AmbientAirTemperature'],
  dtc: ['Vehicle.OBD.DTCList'],
};

/** A value checked against its catalog entry; `key` names it in the reason (never the value). */
function typed(catalog: Catalog, path: string, v: unknown, key: string): SignalValue {
  const spec = catalog.lookup(path);
  if (!spec) throw new DecodeError(`${key}: not in the signal catalog`);
  const reason = checkValue(spec, v);
  if (reason) throw new DecodeError(`${key}: ${reason}`);
  return v as SignalValue;
}

/** Personal data: owner and driver. Kept apart in the record; never sent unless a policy names it. */
const ACCOUNT: Readonly<Record<string, string>> = {
  'account.owner.name': 'Account.Owner.Name',
  'account.owner.phone': 'Account.Owner.Phone',
  'account.owner.iin': 'Account.Owner.NationalId',
  'account.owner.email': 'Account.Owner.Email',
  'account.driver.name': 'Account.Driver.Name',
  'account.driver.phone': 'Account.Driver.Phone',
  'account.driver.license': 'Account.Driver.LicenseNumber',
};

const NESTED = ['position', 'battery', 'cabin', 'account', 'account.owner', 'account.driver'];

/**
 * The three tables as one look-up per payload key, compiled at load: a section (`position`)
 * holds its members by the rest of their name (`lat`, and `owner.name` under `account`), so a
 * nested key is found without spelling out its dotted name; the name is built only for a key
 * that is not in the vocabulary (it is listed as unknown).
 */
interface KeyNode {
  /** The dotted payload key path (`position.lat`). */
  readonly key: string;
  readonly signal?: (typeof SIGNALS)[string];
  readonly account?: string;
  /** A section: its members by the rest of their name. */
  readonly children?: Map<string, KeyNode>;
}

const VOCABULARY: ReadonlyMap<string, KeyNode> = (() => {
  const nodes = new Map<string, KeyNode>();
  for (const [key, signal] of Object.entries(SIGNALS)) nodes.set(key, { key, signal });
  for (const [key, account] of Object.entries(ACCOUNT)) nodes.set(key, { key, account });
  for (const key of NESTED) nodes.set(key, { key, children: new Map() });
  for (const section of NESTED)
    for (const [key, node] of nodes)
      if (key.startsWith(`${section}.`)) nodes.get(section)!.children!.set(key.slice(section.length + 1), node);
  return nodes;
})();

/**
 * Decodes one payload for the authenticated `vin`. Throws DecodeError with a reason a car
 * integrator can act on; the caller quarantines the payload.
 */
export function decodeTelemetry(payload: Buffer, vin: string, catalog: Catalog = defaultCatalog()): DecodedTelemetry {
  let doc: unknown;
  try {
    doc = parseStrictJson(payload.toString('utf8'), { root: 'payload' });
  } catch (err) {
    if (!(err instanceof JsonStrictError)) throw err;
    // A duplicate `vin` could name another car first; whichever copy a reader takes, refuse both.
    if (err.rule === 'duplicate key') throw new DecodeError(`${err.path.slice('payload.'.length)}: duplicate key`);
    throw new DecodeError(`payload is not valid JSON: ${err.message}`);
  }
  if (!isObject(doc)) throw new DecodeError(`payload must be a JSON object, got ${typeName(doc)}`);

  const out: DecodedTelemetry = { observedAt: undefined, signals: { [VIN_SIGNAL]: vin }, account: {}, unknownKeys: [] };
  let vss: unknown;
  for (const key in doc) {
    const value = doc[key];
    if (key === 'ts') (out as { observedAt: number }).observedAt = parseTimestamp(value);
    else if (key === 'vin') {
      if (value !== vin) throw new DecodeError('vin: does not match the authenticated vehicle');
    } else if (key === 'signals') vss = value;
    else walk(key, VOCABULARY.get(key), value, out, catalog);
  }
  // After the checked keys, whatever the key order: `signals` may add paths, never replace one.
  if (vss !== undefined) decodeVssSignals(vss, out, catalog);
  return out;
}

/** One payload key (`node`: its entry in the vocabulary, if it has one) and its value. */
function walk(key: string, node: KeyNode | undefined, value: unknown, out: DecodedTelemetry, catalog: Catalog): void {
  if (node?.signal) {
    const [path, convert] = node.signal;
    out.signals[path] = typed(catalog, path, convert ? convert(value, key) : value, key);
    return;
  }
  if (node?.account) {
    out.account[node.account] = str(value, key);
    return;
  }
  if (node?.children) {
    if (!isObject(value)) throw new DecodeError(`${key}: expected an object, got ${typeName(value)}`);
    for (const k in value) {
      const member = node.children.get(k);
      walk(member ? member.key : `${key}.${k}`, member, value[k], out, catalog);
    }
    return;
  }
  out.unknownKeys.push(text(key, 'a key'));
}

/**
 * `signals: { "Vehicle.Speed": 50 }` — cars that already speak VSS. Each value is typed by the
 * catalog; a path outside it stays in the raw record (listed as `signals.PATH`), and a path a
 * checked top-level key already gave (`position.lat`) is refused rather than overridden.
 */
function decodeVssSignals(value: unknown, out: DecodedTelemetry, catalog: Catalog): void {
  if (!isObject(value)) throw new DecodeError('signals: expected an object of VSS paths to values');
  for (const path in value) {
    const v = value[path];
    if (!VSS_PATH.test(path) || path === VIN_SIGNAL)
      throw new DecodeError(`signals.${fieldName(path)}: not an accepted VSS signal path`);
    if (!catalog.lookup(path)) {
      if (typeof v === 'string') text(v, `signals.${path}`); // the same raw bytes on both stores
      out.unknownKeys.push(`signals.${path}`);
      continue;
    }
    if (Object.hasOwn(out.signals, path))
      throw new DecodeError(`signals.${path}: already sent under its payload key; send it once`);
    out.signals[path] = typed(catalog, path, v, `signals.${path}`);
  }
}

/**
 * A fractional millisecond count is refused, not rounded: both stores keep `observed_at` as an
 * integer, and a car whose clock sends fractions has a bug its integrator should see.
 */
function parseTimestamp(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v)) {
    throw new DecodeError('ts: expected a whole number of milliseconds since 1970');
  }
  const ms = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN;
  // Years 2000..2100: anything else is a clock that was never set, or garbage.
  if (!Number.isFinite(ms) || ms < 946_684_800_000 || ms > 4_102_444_800_000) {
    throw new DecodeError('ts: expected an ISO 8601 time or milliseconds since 1970, between 2000 and 2100');
  }
  return ms;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}
