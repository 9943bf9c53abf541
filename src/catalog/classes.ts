/**
 * Shekara's privacy class for every catalog path. The class, not the policy author's wildcard,
 * decides how a signal may leave (docs/policy.md "Privacy classes"):
 *
 * - `technical`   the car's state; wildcards may select it;
 * - `location`    where the car is or will be: only through the location rules;
 * - `identifier`  singles out a car or a person by itself (VIN, national id, phone…);
 * - `personal`    about a person (name, media played, occupant data);
 * - `free-text`   a string nobody constrained: it can carry anything, names included;
 * - `sensitive`   special-category data (health, biometrics: GDPR Art. 9; KZ Law 94-V Art. 1).
 *
 * Classes come from branch defaults (longest prefix wins), then path overrides; a path whose
 * last segment ends in Latitude or Longitude is `location` whatever else says, because a
 * coordinate pair is a position in any branch.
 */
export const PRIVACY_CLASSES = ['technical', 'location', 'identifier', 'personal', 'free-text', 'sensitive'] as const;
export type PrivacyClass = (typeof PRIVACY_CLASSES)[number];

/** Classes a policy may name only by exact path, with a stated reason. */
export const NAMED_ONLY: ReadonlySet<PrivacyClass> = new Set(['identifier', 'personal', 'free-text', 'sensitive']);

/** Branch (or path) → class. Longest matching prefix wins. */
export const DEFAULT_CLASSES: Readonly<Record<string, PrivacyClass>> = {
  Vehicle: 'technical',
  // Identifies the car; only the model year, shared by a whole fleet, is technical.
  'Vehicle.VehicleIdentification': 'identifier',
  'Vehicle.VehicleIdentification.Year': 'technical',
  'Vehicle.VehicleIdentification.LicensePlate': 'identifier',
  'Vehicle.Powertrain.TractionBattery.Id': 'identifier',
  'Vehicle.Powertrain.TractionBattery.Charging.EvseId': 'identifier',
  'Vehicle.CurrentLocation': 'location',
  'Vehicle.CurrentLocation.HorizontalAccuracy': 'technical',
  'Vehicle.CurrentLocation.VerticalAccuracy': 'technical',
  'Vehicle.CurrentLocation.Heading': 'technical',
  'Vehicle.CurrentLocation.GNSSReceiver': 'technical',
  'Vehicle.Cabin.Infotainment.Navigation.DestinationSet': 'location',
  'Vehicle.Powertrain.TractionBattery.Charging.Location': 'location',
  'Vehicle.Cabin.Infotainment.Media': 'personal',
  'Vehicle.Cabin.Infotainment.SmartphoneProjection': 'personal',
  'Vehicle.Cabin.Infotainment.SmartphoneScreenMirroring': 'personal',
  'Vehicle.Occupant': 'personal',
  'Vehicle.Driver': 'sensitive',
  Account: 'personal',
  'Account.Owner.NationalId': 'identifier',
  'Account.Owner.Phone': 'identifier',
  'Account.Owner.Email': 'identifier',
  'Account.Driver.Phone': 'identifier',
  'Account.Driver.LicenseNumber': 'identifier',
};

/** Identifier-like leaves wherever they sit (Vehicle.Occupant.Row1.DriverSide.Identifier.Subject). */
const IDENTIFIER_SEGMENT = /(^|\.)Identifier\.(Subject|Issuer)$/;
const COORDINATE = /(Latitude|Longitude)$/;

export function isCoordinate(path: string): boolean {
  return COORDINATE.test(path);
}

/**
 * The class of `path`: `overrides` (operator config) first, then the defaults, by longest
 * prefix; `freeText` marks a string signal with neither allowed values nor a pattern.
 */
export function classify(path: string, overrides: ReadonlyMap<string, PrivacyClass>, freeText: boolean): PrivacyClass {
  if (COORDINATE.test(path)) return 'location';
  const own = overrides.get(path) ?? DEFAULT_CLASSES[path];
  if (own) return own;
  if (IDENTIFIER_SEGMENT.test(path)) return 'identifier';
  let cls: PrivacyClass | undefined;
  for (let end = path.lastIndexOf('.'); end > 0 && !cls; end = path.lastIndexOf('.', end - 1)) {
    const prefix = path.slice(0, end);
    cls = overrides.get(prefix) ?? DEFAULT_CLASSES[prefix];
  }
  const base = cls ?? 'technical';
  // An unconstrained string in a technical branch can carry anything: free text.
  return base === 'technical' && freeText ? 'free-text' : base;
}
