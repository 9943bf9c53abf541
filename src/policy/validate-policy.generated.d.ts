// The types of the Ajv standalone validator beside this file (scripts/gen-validators.ts).
import type { ValidateFunction } from 'ajv';

export declare const validate: ValidateFunction;
export default validate;
