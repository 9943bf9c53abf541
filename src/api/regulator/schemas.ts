/**
 * Request and response schemas of the regulator API (TypeBox = JSON Schema). Fastify enforces
 * them; openapi.ts publishes them. Query strings reject unknown parameters (auth.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import { Entry, FilterProps } from '../views/egress-entry.js';

const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(t: T) =>
  Type.Union([t, Type.Null()]);
const strict = { additionalProperties: false } as const;

const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const B64Hash = Type.String({ description: 'base64 SHA-256', pattern: '^[A-Za-z0-9+/]{43}=$' });

export const SearchQuery = Type.Object(
  {
    ...FilterProps,
    limit: Type.Integer({ minimum: 1, maximum: 1_000, default: 100 }),
    cursor: Type.Optional(Type.String({ pattern: '^[0-9]+$', description: 'nextCursor of the previous page' })),
  },
  strict,
);
export type SearchQuery = Static<typeof SearchQuery>;

export const ExportQuery = Type.Object(
  { ...FilterProps, format: Type.Union([Type.Literal('ndjson'), Type.Literal('csv')], { default: 'ndjson' }) },
  strict,
);
export type ExportQuery = Static<typeof ExportQuery>;

export const SummaryQuery = Type.Object(
  {
    oem: FilterProps.oem,
    from: FilterProps.from,
    to: FilterProps.to,
    country: FilterProps.country,
    field: FilterProps.field,
  },
  strict,
);
export type SummaryQuery = Static<typeof SummaryQuery>;

/** An egress-log entry as answered: shared with the OEM API (src/api/views/egress-entry.ts). */
export { Entry };

export const SearchReply = Type.Object({ entries: Type.Array(Entry), nextCursor: Nullable(Type.String()) }, strict);

export const Checkpoint = Type.Object(
  {
    origin: Type.String(),
    size: Type.Integer(),
    rootHash: B64Hash,
    signedAt: Type.String({ format: 'date-time' }),
    note: Type.String({ description: 'the C2SP signed note; save it as a file for `shekara verify --checkpoint`' }),
  },
  strict,
);

export const CheckpointListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 1_000, default: 100 }),
    cursor: Type.Optional(
      Type.String({ pattern: '^[0-9]+$', description: 'nextCursor of the previous page: checkpoints below this size' }),
    ),
  },
  strict,
);
export type CheckpointListQuery = Static<typeof CheckpointListQuery>;
export const CheckpointList = Type.Object(
  { checkpoints: Type.Array(Checkpoint), nextCursor: Nullable(Type.String()) },
  strict,
);

export const SeqParams = Type.Object({ seq: Type.Integer({ minimum: 1 }) }, strict);
export const SizeParams = Type.Object({ size: Type.Integer({ minimum: 0 }) }, strict);
export const EntryQuery = Type.Object(
  {
    checkpoint: Type.Optional(
      Type.Integer({ minimum: 1, description: 'tree size of the checkpoint to prove against (default: the latest)' }),
    ),
  },
  strict,
);

export const EntryReply = Type.Object(
  {
    entry: Entry,
    leaf: Type.Object(
      {
        index: Type.Integer(),
        hash: Hex64,
        canonical: Type.String({ description: 'the leaf bytes (UTF-8): canonical JSON, see docs/audit.md' }),
      },
      strict,
    ),
    checkpoint: Checkpoint,
    inclusionProof: Type.Array(B64Hash, { description: 'RFC 9162 §2.1.3 audit path, leaf side first' }),
  },
  strict,
);

export const ConsistencyQuery = Type.Object(
  { from: Type.Integer({ minimum: 1 }), to: Type.Integer({ minimum: 1 }) },
  strict,
);
export const ConsistencyReply = Type.Object(
  {
    from: Type.Integer(),
    to: Type.Integer(),
    fromRoot: B64Hash,
    toRoot: B64Hash,
    proof: Type.Array(B64Hash, { description: 'RFC 9162 §2.1.4 consistency proof' }),
  },
  strict,
);

export const LogExportQuery = Type.Object(
  {
    size: Type.Optional(
      Type.Integer({ minimum: 0, description: 'tree size to export (default: the latest checkpoint)' }),
    ),
  },
  strict,
);

export const PubkeyReply = Type.Object({ origin: Type.String(), verifierKey: Type.String() }, strict);

export const SummaryReply = Type.Object(
  {
    rows: Type.Array(
      Type.Object(
        {
          day: Type.String(),
          oem: Type.String(),
          destinationCountry: Nullable(Type.String()),
          field: Type.String(),
          records: Type.Integer(),
          bytes: Type.Integer(),
        },
        strict,
      ),
    ),
  },
  strict,
);

export const ErrorReply = Type.Object({ code: Type.String(), message: Type.String() });
