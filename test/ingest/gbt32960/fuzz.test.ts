/**
 * The GB/T 32960 parser never crashes: random and mutated frames, wrong lengths, wrong check
 * codes, truncated streams and many frames in one read give a frame or a clean refusal
 * (FrameError / UnitError), and whatever decodes fits the signal catalog. Bounded runs (the
 * fuzz budget is the run counts below); mutated inputs start from the published samples
 * (test/fixtures/gbt32960/README.md).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameError, parseFrame, type Edition, type Frame } from '../../../src/ingest/gbt32960/frame.js';
import { Framer, type FramerEvent } from '../../../src/ingest/gbt32960/framer.js';
import { decodeMessage } from '../../../src/ingest/gbt32960/message.js';
import { UnitError } from '../../../src/ingest/gbt32960/reader.js';
import { reportPayload } from '../../../src/ingest/gbt32960/signals.js';
import { decodeTelemetry } from '../../../src/decoder.js';

const samples = Object.values(
  (
    JSON.parse(readFileSync(new URL('../../fixtures/gbt32960/rtm_con-samples.json', import.meta.url), 'utf8')) as {
      frames: Record<string, string>;
    }
  ).frames,
).map((h) => Buffer.from(h, 'hex'));

const VIN_CHARS = 'ABCDEFGHJKLMNPRSTUVWXYZ0123456789';
const vin = fc.array(fc.constantFrom(...VIN_CHARS), { minLength: 17, maxLength: 17 }).map((a) => a.join(''));
const fields = fc.record({
  edition: fc.constantFrom<Edition>(2016, 2025),
  command: fc.integer({ min: 0, max: 255 }),
  flag: fc.constantFrom(0x01, 0x02, 0x03, 0xfe),
  vin,
  data: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
});
/** Bytes that can never begin a start marker, so the expected frames are known. */
const garbage = fc
  .uint8Array({ maxLength: 40 })
  .map((a) => Buffer.from(a.map((b) => (b === 0x23 || b === 0x24 ? 0x00 : b))));

/** Splits a buffer at random points, as TCP reads would. */
function chunks(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let at = 0;
  for (const p of points) {
    out.push(buf.subarray(at, p));
    at = p;
  }
  out.push(buf.subarray(at));
  return out;
}

function feed(buf: Buffer, cuts: number[]): FramerEvent[] {
  const framer = new Framer();
  return chunks(buf, cuts).flatMap((c) => framer.push(c));
}

/** Decodes like the listener does; only the standard's refusals may escape. */
function decodeAll(frame: Frame): void {
  try {
    const m = decodeMessage(frame);
    if (m.kind === 'report') {
      const payload = reportPayload(m.report, frame.edition, false, frame.raw);
      // Anything the decoder yields fits the catalog: it is stored as a record, never quarantined.
      decodeTelemetry(Buffer.from(JSON.stringify(payload)), frame.vin);
    }
  } catch (err) {
    if (!(err instanceof UnitError)) throw err;
  }
}

describe('gbt32960 framer and decoder, property tests', () => {
  it('many frames in one read, or split anywhere, with garbage between: every frame, in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(garbage, fields), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (items, cuts) => {
          const frames = items.map(([, f]) => encodeFrame(f));
          const stream = Buffer.concat(items.flatMap(([g], i) => [g, frames[i]!]));
          const got = feed(stream, cuts).filter((e) => e.kind === 'frame');
          expect(got.map((e) => (e.kind === 'frame' ? e.frame.raw.toString('hex') : ''))).toEqual(
            frames.map((f) => f.toString('hex')),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a corrupted frame is refused and the next good one is still read (the connection stays usable)', () => {
    // A corrupted length field makes the framer wait for that many bytes: the stream goes on
    // (the car resends, §6.5), and once they are in, the frame fails its check code and the
    // framer resynchronises inside it. The filler stands for what the car sends meanwhile.
    const filler = Buffer.alloc(65_536 + 25);
    fc.assert(
      fc.property(fields, fields, fc.nat(), fc.integer({ min: 1, max: 255 }), (a, b, pos, x) => {
        const bad = encodeFrame(a);
        bad[2 + (pos % (bad.length - 2))]! ^= x;
        const good = encodeFrame(b);
        const events = feed(Buffer.concat([bad, good, filler]), []);
        const frames = events.flatMap((e) => (e.kind === 'frame' ? [e.frame.raw.toString('hex')] : []));
        expect(frames.at(-1)).toBe(good.toString('hex'));
        expect(frames).not.toContain(bad.toString('hex'));
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes: a frame with a good check code, or a refusal; never a throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
        for (const e of feed(Buffer.from(bytes), cuts)) if (e.kind === 'frame') decodeAll(e.frame);
      }),
      { numRuns: 500 },
    );
  });

  it('mutated, truncated and extended sample frames: a frame or a clean refusal, and what decodes fits the catalog', () => {
    const mutated = fc
      .tuple(
        fc.constantFrom(...samples),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.option(fc.nat(), { nil: undefined }),
        fc.boolean(),
      )
      .map(([s, edits, cut, fixBcc]) => {
        let b = Buffer.from(s);
        for (const [at, v] of edits) b[at % b.length] = v;
        if (cut !== undefined) b = b.subarray(0, cut % (b.length + 1));
        // Half the time the check code is recomputed, so the mutation reaches the data unit decoders.
        if (fixBcc && b.length > 24) {
          const len = Math.min(b.readUInt16BE(22), b.length - 25);
          b.writeUInt16BE(len, 22);
          b = b.subarray(0, 25 + len);
          let x = 0;
          for (let i = 2; i < b.length - 1; i++) x ^= b[i]!;
          b[b.length - 1] = x;
        }
        return b;
      });
    fc.assert(
      fc.property(mutated, (b) => {
        let frame: Frame;
        try {
          frame = parseFrame(b);
        } catch (err) {
          if (err instanceof FrameError) return;
          throw err;
        }
        decodeAll(frame);
      }),
      { numRuns: 1500 },
    );
  });

  it('every published sample decodes to signals the catalog accepts', () => {
    for (const s of samples) decodeAll(parseFrame(s));
  });
});
