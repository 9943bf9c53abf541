/**
 * `shekara gbt32960 decode <hex|file>`: prints each GB/T 32960 frame in the input as decoded
 * fields (JSON), for operators debugging a car. The input is hex (spaces allowed) or a file
 * holding hex or raw frame bytes; a capture with many frames is split like a TCP stream.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ShekaraError } from '../errors.js';
import { Framer } from '../ingest/gbt32960/framer.js';
import { describeFrame } from '../ingest/gbt32960/message.js';
import { cliIo } from './io.js';

/** Exit 1 when the input holds no frame that decodes. */
export function gbt32960DecodeCommand(input: string): number {
  const bytes = readInput(input);
  const out: unknown[] = [];
  for (const e of new Framer().push(bytes)) {
    out.push(e.kind === 'frame' ? describeFrame(e.frame) : { refused: e.code, bytes: e.bytes });
  }
  cliIo().stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  return out.some((x) => !(x as { refused?: string }).refused) ? 0 : 1;
}

function readInput(input: string): Buffer {
  const hex = (s: string) => s.replace(/\s+/g, '');
  if (existsSync(input)) {
    const raw = readFileSync(input);
    const text = raw.toString('latin1');
    return /^[0-9a-fA-F\s]+$/.test(text) ? Buffer.from(hex(text), 'hex') : raw;
  }
  if (!/^[0-9a-fA-F\s]+$/.test(input) || hex(input).length % 2 !== 0)
    throw new ShekaraError('SHK_BAD_REQUEST', 'expected a hex string (an even number of hex digits) or a file');
  return Buffer.from(hex(input), 'hex');
}
