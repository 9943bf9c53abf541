/**
 * The push side of the OEM contract as OpenAPI 3.1 `webhooks`: what the gateway POSTs to the
 * OEM's endpoint (egress/deliver.ts, egress/batch.ts) and what each answer means. Documented
 * here so an OEM integrates against one document; docs/oem-api.md#batched-push says the same.
 */
const DELIVERY_ID = {
  type: 'string',
  pattern: '^d_[A-Za-z0-9_-]{22}$',
  description:
    'Opaque id of this delivery, one per record and purpose: no time inside, unrelated to the ids of other purposes. ' +
    'The idempotency id; name it to the gateway operator or regulator to trace a delivery.',
};
const projection = {
  type: 'object',
  description:
    'An approved projection. `vehicle` (the pseudonym) is present only when the purpose names ' +
    'Vehicle.VehicleIdentification.VIN; otherwise nothing in the delivery identifies the vehicle.',
  required: ['deliveryId', 'purpose', 'policyHash', 'observedAt', 'signals'],
  properties: {
    deliveryId: DELIVERY_ID,
    purpose: { type: 'string' },
    policyHash: { type: 'string' },
    vehicle: { type: 'string', description: 'keyed pseudonym of the VIN (only for purposes that name the VIN)' },
    observedAt: { type: 'string', format: 'date-time', description: "floored to the purpose's timeBucket" },
    signals: { type: 'object' },
  },
  additionalProperties: false,
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
          description: 'the deliveryId of the body: drop a repeat',
          schema: { type: 'string' },
        },
        { name: 'Shekara-Delivery-Id', in: 'header', required: true, schema: DELIVERY_ID },
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
                    'A vehicle’s items are contiguous and in its order; apply them in array order. A vehicle’s items ' +
                    'arrive in order across batches: its next batch is sent only after this one was answered 2xx.',
                  items: {
                    type: 'object',
                    required: ['idempotencyKey', 'deliveryId', 'purpose', 'policyHash', 'body'],
                    properties: {
                      idempotencyKey: { type: 'string', description: 'the item’s deliveryId: drop a repeat' },
                      deliveryId: DELIVERY_ID,
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
