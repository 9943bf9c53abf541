/**
 * The data category of a field that crosses, for the processing record and the ledger: its
 * privacy class from the signal catalog (src/catalog/classes.ts — technical, location,
 * identifier, personal, free-text, sensitive), with the operator's `catalog.classes` overrides
 * and extensions. "Sensitive" for the thresholds means the classes China's Several Provisions
 * on Automobile Data Security Management (2021, art. 3) name as sensitive personal
 * information: vehicle location and special-category data (biometrics, health).
 */
import { classify, type PrivacyClass } from '../catalog/classes.js';
import type { Config } from '../config/schema.js';

export type DataCategory = PrivacyClass;

export const SENSITIVE: ReadonlySet<DataCategory> = new Set(['location', 'sensitive']);

export type Classifier = (path: string) => DataCategory;

/** The classifier of this config: its class overrides and extension classes first, then the catalog's defaults. */
export function classifier(catalog: Config['catalog'] | undefined): Classifier {
  const overrides = new Map<string, PrivacyClass>(Object.entries(catalog?.classes ?? {}));
  for (const e of catalog?.extensions ?? []) overrides.set(e.path, e.class);
  return (path) => classify(path, overrides, false);
}

/** The distinct categories of a list of fields, in a stable order. */
export function categoriesOf(paths: readonly string[], classOf: Classifier): DataCategory[] {
  return [...new Set(paths.map(classOf))].sort();
}
