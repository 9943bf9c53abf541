/**
 * The global setup's check of a shared broker (SHEKARA_KAFKA_EXTERNAL=1): a metadata request
 * from kafkajs, against the real broker and against a port where none listens.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { kafkaUnanswered } from './kafka-answers.js';
import { KAFKA_BROKERS } from '../egress/helpers.js';

describe('whether Kafka answers', () => {
  it("the tests' broker answers", async () => {
    expect(await kafkaUnanswered(KAFKA_BROKERS[0]!)).toBeUndefined();
  });

  it('a port where nothing listens does not: the reason is given', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    expect(await kafkaUnanswered(`127.0.0.1:${port}`, 1_000)).toEqual(expect.any(String));
  });
});
