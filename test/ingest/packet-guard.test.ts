import { describe, expect, it } from 'vitest';
import { PacketLengthScanner, PacketTooLargeError, MalformedLengthError } from '../../src/ingest/packet-guard.js';
import { remainingLength } from '../helpers/raw-mqtt.js';

const publish = (bodyLen: number) =>
  Buffer.concat([Buffer.from([0x30]), remainingLength(bodyLen), Buffer.alloc(bodyLen)]);

describe('packet length scanner', () => {
  it('lets packets up to the limit through, across any chunking', () => {
    const stream = Buffer.concat([publish(10), publish(500), publish(0), publish(1000 - 3)]);
    for (const size of [1, 2, 3, 7, 64, stream.length]) {
      const s = new PacketLengthScanner(1000);
      for (let i = 0; i < stream.length; i += size) s.scan(stream.subarray(i, i + size));
    }
  });

  it('throws on the header of a packet one byte over the limit', () => {
    const s = new PacketLengthScanner(1000);
    expect(() => s.scan(publish(1000 - 2).subarray(0, 3))).toThrow(PacketTooLargeError);
  });

  it('throws on a fifth remaining-length byte', () => {
    expect(() => new PacketLengthScanner(1000).scan(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff]))).toThrow(
      MalformedLengthError,
    );
  });

  it('finds the oversized packet after small ones in the same chunk', () => {
    const s = new PacketLengthScanner(100);
    expect(() => s.scan(Buffer.concat([publish(5), publish(5), publish(200)]))).toThrow(
      /declared packet size 203 bytes exceeds the limit of 100/,
    );
  });
});
