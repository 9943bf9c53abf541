/** Pieces every config section uses: a port, a host, and no unknown keys. */
import { Type } from '@sinclair/typebox';

export const Port = Type.Integer({ minimum: 0, maximum: 65535, description: '0 picks a free port (tests)' });
export const Host = Type.String({ minLength: 1, default: '0.0.0.0' });
export const strict = { additionalProperties: false } as const;
