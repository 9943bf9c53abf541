/** A gateway log written to memory: every JSON line a real gateway logs, for tests to search. */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.js';

export interface LogCapture {
  readonly log: Logger;
  /** Every line so far, raw. */
  text(): string;
  /** Every line so far, parsed. */
  lines(): Record<string, unknown>[];
}

export function captureLog(level = 'info'): LogCapture {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return {
    log: createLogger(level, stream),
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
