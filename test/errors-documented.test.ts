import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../src/errors.js';

describe('error codes', () => {
  it('each appears in docs/errors.md', () => {
    const doc = readFileSync('docs/errors.md', 'utf8');
    const missing = Object.values(ErrorCodes).filter((code) => !doc.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });
});
