/**
 * What a curious OEM would try on every id it receives: read a timestamp out of it. Returns
 * the fragments of `text` that decode to a time within `windowMs` of `atMs`:
 * - hex (a UUIDv7's first 48 bits are milliseconds; 8 hex digits can be Unix seconds), at any
 *   offset, dashes ignored;
 * - decimal Unix milliseconds (13 digits) or seconds (10 digits);
 * - base64 / base64url runs, decoded, read as 48-bit big-endian milliseconds or 32-bit seconds
 *   at every byte offset.
 * The window is narrow (an hour by default) so that random ids do not match by chance.
 */
export function carriesTimeNear(text: string, atMs: number, windowMs = 3_600_000): string[] {
  const hits: string[] = [];
  const near = (ms: number) => Math.abs(ms - atMs) <= windowMs;
  for (const m of text.matchAll(/[0-9a-fA-F-]{8,}/g)) {
    const hex = m[0].replaceAll('-', '');
    for (let i = 0; i + 12 <= hex.length; i++) if (near(parseInt(hex.slice(i, i + 12), 16))) hits.push(m[0]);
    for (let i = 0; i + 8 <= hex.length; i++) if (near(parseInt(hex.slice(i, i + 8), 16) * 1000)) hits.push(m[0]);
  }
  for (const m of text.matchAll(/\d{10,}/g)) {
    for (let i = 0; i + 13 <= m[0].length; i++) if (near(Number(m[0].slice(i, i + 13)))) hits.push(m[0]);
    for (let i = 0; i + 10 <= m[0].length; i++) if (near(Number(m[0].slice(i, i + 10)) * 1000)) hits.push(m[0]);
  }
  for (const m of text.matchAll(/[A-Za-z0-9+/_-]{8,}/g)) {
    for (let shift = 0; shift < 4; shift++) {
      const b = Buffer.from(m[0].slice(shift).replaceAll('-', '+').replaceAll('_', '/'), 'base64');
      for (let i = 0; i + 6 <= b.length; i++) if (near(b.readUIntBE(i, 6))) hits.push(m[0]);
      for (let i = 0; i + 4 <= b.length; i++) if (near(b.readUInt32BE(i) * 1000)) hits.push(m[0]);
    }
  }
  return [...new Set(hits)];
}
