/**
 * The push side of the OEM contract as OpenAPI 3.1 `webhooks`: what the gateway POSTs to the
 * OEM's endpoint (egress/deliver.ts, egress/batch.ts) and what each answer means. Documented
 * here so an OEM integrates against one document; docs/oem-api.md#batched-push says the same.
 */
const projection = {
  type: 'object',
  description: 'An approved projection: recordId, purpose, policyHash, vehicle (pseudonym), observedAt, signals.',
  additionalProperties: true,
};
const signed = [
  {
    name: 'Shekara-Signature',
    in: 'header',
    required: true,
    description: 't=<unix seconds>,v1=<hex HMAC-SHA256(key, "<t>.<raw body>")> (two v1 during a key rotation)',
    schema: { type: 'string' },
  },
];
const answers = (scope: string) => ({
  '2XX': { description: `accepted: ${scope} durably kept (a repeated idempotency id is acknowledged, not kept twice)` },
  '408': { description: 'retried later (as are 425, 429, 5xx and network errors), with the same idempotency id(s)' },
  '4XX': { description: `any other 4xx: ${scope} dead-lettered at once, never retried` },
  '3XX': { description: 'never followed: a redirect is a dead letter (the data would go where no one approved)' },
});

export const OEM_WEBHOOKS = {
  projection: {
    post: {
      summary: 'One approved projection (oems[].batch.maxRecords = 1, the default)',
      parameters: [
        ...signed,
        {
          name: 'Idempotency-Key',
          in: 'header',
          required: true,
          description: '{recordId}/{purpose}: drop a repeat',
          schema: { type: 'string' },
        },
        { name: 'Shekara-Record-Id', in: 'header', required: true, schema: { type: 'string' } },
        { name: 'Shekara-Policy-Hash', in: 'header', required: true, schema: { type: 'string' } },
      ],
      requestBody: { required: true, content: { 'application/json': { schema: projection } } },
      responses: answers('the projection is'),
    },
  },
  projectionBatch: {
    post: {
      summary: 'Many approved projections in one POST (oems[].batch.maxRecords > 1); answered all or nothing',
      parameters: [
        ...signed,
        { name: 'Shekara-Batch-Size', in: 'header', required: true, schema: { type: 'integer', minimum: 2 } },
      ],
      requestBody: {
        required: true,
        content: {
          'application/vnd.shekara.batch+json': {
            schema: {
              type: 'object',
              required: ['items'],
              properties: {
                items: {
                  type: 'array',
                  minItems: 2,
                  description:
                    'At most one item per vehicle pseudonym; a vehicle’s items arrive in order across batches.',
                  items: {
                    type: 'object',
                    required: ['idempotencyKey', 'recordId', 'purpose', 'policyHash', 'body'],
                    properties: {
                      idempotencyKey: { type: 'string', description: '{recordId}/{purpose}: drop a repeat' },
                      recordId: { type: 'string' },
                      purpose: { type: 'string' },
                      policyHash: { type: 'string' },
                      body: projection,
                    },
                  },
                },
              },
            },
          },
        },
      },
      responses: answers('EVERY item is'),
    },
  },
} as const;
