/**
 * Enforces the maximum MQTT packet size on the DECLARED length in each fixed header, before
 * aedes sees the bytes: a car announcing a 200 MB packet is cut off within the chunk that
 * carries the header, not after we have buffered 200 MB for it.
 */
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

export class PacketTooLargeError extends Error {
  constructor(
    readonly declared: number,
    readonly limit: number,
  ) {
    super(`declared packet size ${declared} bytes exceeds the limit of ${limit}`);
  }
}

export class MalformedLengthError extends Error {
  constructor() {
    super('malformed remaining length: more than 4 bytes [MQTT-1.5.5]');
  }
}

/** Follows packet boundaries through a byte stream, reading only fixed headers. */
export class PacketLengthScanner {
  private state: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private bodyLeft = 0;

  constructor(private readonly maxPacketBytes: number) {}

  /** Throws PacketTooLargeError or MalformedLengthError; otherwise the chunk may pass. */
  scan(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const skip = Math.min(this.bodyLeft, chunk.length - i);
        this.bodyLeft -= skip;
        i += skip;
        if (this.bodyLeft === 0) this.state = 'type';
      } else if (this.state === 'type') {
        this.state = 'length';
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        i += 1;
      } else {
        const byte = chunk[i]!;
        i += 1;
        this.length += (byte & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        this.lengthBytes += 1;
        if (byte & 0x80) {
          if (this.lengthBytes >= 4) throw new MalformedLengthError();
          continue;
        }
        const total = 1 + this.lengthBytes + this.length;
        if (total > this.maxPacketBytes) throw new PacketTooLargeError(total, this.maxPacketBytes);
        this.bodyLeft = this.length;
        this.state = this.length === 0 ? 'type' : 'body';
      }
    }
  }
}

/**
 * The socket as aedes sees it: reads pass the scanner first; writes go straight through.
 * On a violation the socket is destroyed and `onViolation` says why.
 */
export function guardSocket(socket: Socket, maxPacketBytes: number, onViolation: (err: Error) => void): Duplex {
  const scanner = new PacketLengthScanner(maxPacketBytes);
  const guarded: Duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      socket.write(chunk, cb);
    },
    final(cb) {
      socket.end(cb);
    },
    destroy(err, cb) {
      socket.destroy();
      cb(err);
    },
  });
  socket.on('data', (chunk: Buffer) => {
    try {
      scanner.scan(chunk);
    } catch (err) {
      onViolation(err as Error);
      socket.destroy();
      return;
    }
    if (!guarded.push(chunk)) socket.pause();
  });
  socket.on('end', () => guarded.push(null));
  socket.on('close', () => {
    if (!guarded.destroyed) guarded.destroy();
  });
  socket.on('error', () => socket.destroy());
  return guarded;
}
