/**
 * Enforces the maximum MQTT packet size on the DECLARED length in each fixed header, before
 * the parser buffers the bytes: a car announcing a 200 MB packet is cut off within the chunk
 * that carries the header, not after we have buffered 200 MB for it.
 */

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
  private packets = 0;

  /** `firstPacketBytes`: a smaller cap for the first packet (the CONNECT, read before the car is known). */
  constructor(
    private readonly maxPacketBytes: number,
    private readonly firstPacketBytes = maxPacketBytes,
  ) {}

  /** How many fixed headers have been read (the packet under way included). */
  get seen(): number {
    return this.packets;
  }

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
        const limit = this.packets === 0 ? this.firstPacketBytes : this.maxPacketBytes;
        this.packets += 1;
        if (total > limit) throw new PacketTooLargeError(total, limit);
        this.bodyLeft = this.length;
        this.state = this.length === 0 ? 'type' : 'body';
      }
    }
  }
}
