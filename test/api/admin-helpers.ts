/** A small operator client for /admin/v1 over real HTTP, and policy texts for tests. */
import { expect } from 'vitest';

export interface AdminClient {
  call(method: string, path: string, body?: unknown): Promise<Response>;
  /** Calls and expects `status` (200 by default); returns the JSON answer. */
  ok<T = Record<string, unknown>>(method: string, path: string, body?: unknown, status?: number): Promise<T>;
  keyId(): string;
  useKey(key: string): void;
}

export function adminClient(baseUrl: () => string, key: string): AdminClient {
  let current = key;
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${baseUrl()}/admin/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${current}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  return {
    call,
    async ok<T>(method: string, path: string, body?: unknown, status = 200) {
      const res = await call(method, path, body);
      expect(res.status, `${method} ${path}: ${await res.clone().text()}`).toBe(status);
      return res.json() as Promise<T>;
    },
    keyId: () => current.split('_')[1]!,
    useKey: (k) => {
      current = k;
    },
  };
}

/** One purpose `speed` naming `fields` (YAML lines), the VIN pseudonymized unless `vin: false`. */
export function policyText(oem: string, fields: readonly string[], opts: { vin?: boolean } = {}): string {
  const lines = [...(opts.vin === false ? [] : ['Vehicle.VehicleIdentification.VIN: pseudonymize']), ...fields];
  return `oem: ${oem}\npurposes:\n  - id: speed\n    description: Speed profile, no location.\n    fields:\n${lines.map((l) => `      ${l}\n`).join('')}`;
}
