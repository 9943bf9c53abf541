/**
 * Finds GB/T 32960 frames in a TCP byte stream: many frames in one read, one frame over many
 * reads, and garbage between them. The stream has no escaping, so after bytes that are not a
 * frame (a bad header, a check code that does not match) the framer resynchronises on the next
 * `##` or `$$` one byte further on; a frame the car resends after no answer (§6.5: the terminal
 * resends after the answer timeout) is then read whole.
 *
 * Memory is bounded: at most one frame (24 + 65531 + 1 bytes) is buffered, since a header
 * announcing more is refused before its data arrives.
 */
import { bcc, checkHeader, editionOf, FrameError, HEADER_BYTES, type Frame } from './frame.js';

export type FramerEvent =
  | { readonly kind: 'frame'; readonly frame: Frame }
  | { readonly kind: 'refused'; readonly code: FrameError['code'] | 'garbage'; readonly bytes: number };

export class Framer {
  private buf: Buffer = Buffer.alloc(0);

  /** Bytes held while waiting for the rest of a frame. */
  get buffered(): number {
    return this.buf.length;
  }

  push(chunk: Buffer): FramerEvent[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: FramerEvent[] = [];
    let at = 0;
    let garbage = 0;
    const buf = this.buf;
    const flushGarbage = () => {
      if (garbage > 0) out.push({ kind: 'refused', code: 'garbage', bytes: garbage });
      garbage = 0;
    };
    for (;;) {
      // Look for a start marker.
      let start = at;
      while (start + 1 < buf.length && !editionOf(buf[start]!, buf[start + 1]!)) start++;
      if (start + 1 >= buf.length) {
        // Keep a lone last byte that may begin a marker.
        const keep = start < buf.length && (buf[start] === 0x23 || buf[start] === 0x24) ? 1 : 0;
        garbage += buf.length - keep - at;
        at = buf.length - keep;
        break;
      }
      garbage += start - at;
      at = start;
      if (buf.length - at < HEADER_BYTES) break;
      let length: number;
      try {
        ({ length } = checkHeader(buf, at));
      } catch (err) {
        if (!(err instanceof FrameError)) throw err;
        flushGarbage();
        out.push({ kind: 'refused', code: err.code, bytes: 1 });
        at += 1;
        continue;
      }
      const total = HEADER_BYTES + length + 1;
      if (buf.length - at < total) break;
      if (bcc(buf, at + 2, at + total - 1) !== buf[at + total - 1]) {
        flushGarbage();
        out.push({ kind: 'refused', code: 'bad-bcc', bytes: 1 });
        at += 1;
        continue;
      }
      flushGarbage();
      // A copy: the frame outlives this buffer (its raw bytes are stored).
      const raw = Buffer.from(buf.subarray(at, at + total));
      out.push({
        kind: 'frame',
        frame: {
          edition: editionOf(raw[0]!, raw[1]!)!,
          command: raw[2]!,
          flag: raw[3]!,
          vin: raw.toString('latin1', 4, 21),
          encryption: raw[21]!,
          data: raw.subarray(HEADER_BYTES, HEADER_BYTES + length),
          raw,
        },
      });
      at += total;
    }
    flushGarbage();
    this.buf = at >= buf.length ? Buffer.alloc(0) : at === 0 ? buf : Buffer.from(buf.subarray(at));
    return out;
  }
}
