/** One HTTP delivery of an approved projection to its OEM. */
import type { OutboxRow } from '../store/index.js';

export type DeliveryResult =
  | { readonly ok: true; readonly status: number }
  | { readonly ok: false; readonly status: number | null; readonly error: string; readonly retriable: boolean };

export async function deliver(endpoint: URL, row: OutboxRow, timeoutMs: number, retriableStatus: (s: number) => boolean): Promise<DeliveryResult> {
  let res: Response;
  try {
    res = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        // The gateway record id (with the purpose: one record may cross once per purpose)
        // is the idempotency key end to end; an OEM that sees it twice drops the repeat.
        'idempotency-key': `${row.recordId}/${row.purpose}`,
        'shekara-record-id': row.recordId,
        'shekara-policy-hash': row.policyHash,
      },
      body: row.body,
      redirect: 'manual', // a redirect would send the data to a destination no one approved
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const reason = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message);
    return { ok: false, status: null, error: `network: ${reason}`, retriable: true };
  }
  if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
  if (res.status >= 300 && res.status < 400) {
    return { ok: false, status: res.status, error: 'HTTP redirect refused: the OEM endpoint must answer directly', retriable: false };
  }
  return { ok: false, status: res.status, error: `HTTP ${res.status}`, retriable: retriableStatus(res.status) };
}
