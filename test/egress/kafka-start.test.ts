/**
 * The Kafka queue's start against the real broker, on topics that exist but are not yet usable:
 * just created with many partitions, the broker answers "This server does not host this
 * topic-partition" for a moment (to kafkajs's own wait for leaders too).
 * The start waits for every partition's leader, bounded by `startTimeoutMs`, and fails with a
 * typed error naming the topics when they never come; an error that is not "not yet" is not
 * waited out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { awaitTopicLeaders } from '../../src/egress/kafka-leaders.js';
import { topicOf, dlqTopicOf } from '../../src/egress/kafka-topics.js';
import { isShekaraError } from '../../src/errors.js';
import { captureLog } from '../helpers/log-capture.js';
import { createEgress } from '../../src/egress/index.js';
import { createLogger } from '../../src/log.js';
import {
  commitRecords,
  egressTestConfig,
  eventually,
  KAFKA_BROKERS,
  tempStore,
  uniquePrefix,
  useEgressRig,
} from './helpers.js';

// Enough partitions that the broker takes a moment to know them all: on this machine
// kafkajs's createTopics({ waitForLeaders: true }) with 2 such topics failed 4 times in 5 with
// UNKNOWN_TOPIC_OR_PARTITION, and so did the gateway's start before it waited for the leaders.
const PARTITIONS = 100;

describe('egress through Kafka › start on topics just created', () => {
  const kafka = new Kafka({ clientId: 'kafka-start-test', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
  let admin: Admin;
  /** Topics to delete: the previous round's, then the last ones after all. */
  const created: string[] = [];
  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    const filler = `${uniquePrefix()}filler`;
    await admin.createTopics({ topics: [{ topic: filler, numPartitions: PARTITIONS }] });
    created.push(filler);
  });
  afterAll(async () => {
    // Many partitions each: not left on the shared broker.
    if (created.length > 0) await admin.deleteTopics({ topics: created }).catch(() => undefined);
    await admin.disconnect();
  });
  const rig = useEgressRig('kafka');

  it.each([1, 2, 3])(
    'its own topics, just created: it waits for their leaders, starts and delivers (round %i)',
    async () => {
      const topicPrefix = uniquePrefix();
      created.push(topicOf(topicPrefix, 'demo-oem'), dlqTopicOf(topicPrefix, 'demo-oem'));
      const { store, sink } = await rig.start({
        egress: {
          queue: {
            kind: 'kafka',
            kafka: { brokers: KAFKA_BROKERS, topicPrefix, partitions: PARTITIONS, maxWaitTimeMs: 50, relayLingerMs: 2 },
          },
        },
      });
      const sent = await commitRecords(store, 3, 1);
      await eventually(() => sink.hits.length >= sent.length, 20_000, 'the records at the sink');
      expect(new Set(sink.hits.map((h) => h.body.deliveryId))).toEqual(new Set(sent.map((s) => s.deliveryId)));
    },
  );

  it('two instances starting at once on the same topics: both wait, neither fails', async () => {
    await admin.deleteTopics({ topics: created.splice(0) });
    const topicPrefix = uniquePrefix();
    created.push(topicOf(topicPrefix, 'demo-oem'), dlqTopicOf(topicPrefix, 'demo-oem'));
    const sink = await rig.sink();
    const egress = {
      queue: {
        kind: 'kafka',
        kafka: { brokers: KAFKA_BROKERS, topicPrefix, partitions: PARTITIONS, maxWaitTimeMs: 50 },
      },
    };
    const config = egressTestConfig('kafka', sink.url, egress);
    const ts = tempStore();
    // The second one finds the topics being created by the first (kafkajs: TOPIC_ALREADY_EXISTS, no wait).
    const [first, second] = await Promise.allSettled([
      rig.start({ egress }),
      createEgress(config.egress, {
        store: ts.store,
        oems: config.oems,
        isStillAllowed: async () => true,
        log: createLogger('silent'),
      }),
    ]);
    if (second.status === 'fulfilled') await second.value.close();
    await ts.dispose();
    expect([first.status, second.status]).toEqual(['fulfilled', 'fulfilled']);
  });

  it('a topic that never comes: SHK_EGRESS_KAFKA naming it once startTimeoutMs has passed, logged at info', async () => {
    const missing = `${uniquePrefix()}egress.never`;
    const capture = captureLog();
    const err: unknown = await awaitTopicLeaders(admin, [missing], { timeoutMs: 300, log: capture.log }).catch(
      (e: unknown) => e,
    );
    expect(isShekaraError(err, 'SHK_EGRESS_KAFKA')).toBe(true);
    expect((err as Error).message).toContain(missing);
    expect((err as { details: unknown }).details).toEqual({ topics: [missing], timeoutMs: 300 });
    expect(capture.lines().find((l) => l.msg === 'egress: waiting for Kafka topic leaders')).toMatchObject({
      level: 30,
      topics: [missing],
      timeoutMs: 300,
    });
  });

  it('an error that is not "not yet" is thrown at once, not waited out', async () => {
    // The broker refuses the name (INVALID_TOPIC_EXCEPTION); a 10-minute bound would time the test out.
    const err: unknown = await awaitTopicLeaders(admin, ['bad topic name!'], {
      timeoutMs: 600_000,
      log: captureLog().log,
    }).catch((e: unknown) => e);
    expect((err as { type?: string }).type).toBe('INVALID_TOPIC_EXCEPTION');
  });
});
