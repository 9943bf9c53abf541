/**
 * The config and policy validators are Ajv standalone code generated from the schemas
 * (scripts/gen-validators.ts), so nothing compiles a schema at start-up. They must be the code
 * the schemas make today: a schema edited without `npm run gen:validators` fails here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validatorSources } from '../../scripts/gen-validators.js';

const root = path.resolve(import.meta.dirname, '../..');

describe('generated validators', () => {
  it.each([...validatorSources()])('%s is what its schema generates (npm run gen:validators)', (file, text) => {
    expect(readFileSync(path.join(root, file), 'utf8') === text, `${file} is stale: run npm run gen:validators`).toBe(
      true,
    );
  });
});
