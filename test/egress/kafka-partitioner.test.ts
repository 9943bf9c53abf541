/**
 * The relay's partitioner gives kafkajs's default answers (a vehicle's messages stay in the
 * partition they always went to) and hashes each vehicle's key once, not once per message.
 */
import { describe, expect, it } from 'vitest';
import { Partitioners, type PartitionerArgs } from 'kafkajs';
import { MAX_REMEMBERED_KEYS, rememberingPartitioner } from '../../src/egress/kafka-partitioner.js';

const metadata = (n: number): PartitionerArgs['partitionMetadata'] =>
  Array.from({ length: n }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
    offlineReplicas: [],
  }));

/** The default partitioner, counting what it is asked. */
function countingDefault() {
  const asked: string[] = [];
  const base = () => {
    const p = Partitioners.DefaultPartitioner();
    return (args: PartitionerArgs) => {
      asked.push(String(args.message.key));
      return p(args);
    };
  };
  return { base, asked };
}

describe('egress › Kafka relay partitioner', () => {
  const keys = Array.from({ length: 300 }, (_, i) => `pseudonym-${i}`);

  it("puts every key in the partition kafkajs's default partitioner chooses, per topic and partition count", () => {
    const reference = Partitioners.DefaultPartitioner();
    const partitionOf = rememberingPartitioner()();
    for (const n of [6, 12])
      for (const topic of ['t.egress.a', 't.egress.b'])
        for (const round of [1, 2])
          for (const key of keys) {
            const args = { topic, partitionMetadata: metadata(n), message: { key, value: `m${round}` } };
            expect(partitionOf(args)).toBe(reference(args));
          }
  });

  it('asks the default once per vehicle, not once per message', () => {
    const { base, asked } = countingDefault();
    const partitionOf = rememberingPartitioner(base)();
    for (let round = 0; round < 5; round++)
      for (const key of keys) partitionOf({ topic: 't', partitionMetadata: metadata(6), message: { key, value: 'v' } });
    expect(asked).toHaveLength(keys.length);
    // A topic that gained partitions is asked again: the remembered answer was for the old count.
    partitionOf({ topic: 't', partitionMetadata: metadata(12), message: { key: keys[0]!, value: 'v' } });
    expect(asked).toHaveLength(keys.length + 1);
  });

  it('leaves a message with a partition, or without a key, to the default', () => {
    const { base, asked } = countingDefault();
    const partitionOf = rememberingPartitioner(base)();
    const args = { topic: 't', partitionMetadata: metadata(6), message: { key: 'k', value: 'v', partition: 4 } };
    expect(partitionOf(args)).toBe(4);
    expect(partitionOf(args)).toBe(4);
    partitionOf({ topic: 't', partitionMetadata: metadata(6), message: { value: 'v' } });
    expect(asked).toHaveLength(3);
  });

  it('forgets what it remembered once it holds MAX_REMEMBERED_KEYS keys, and still answers right', () => {
    const { base, asked } = countingDefault();
    const partitionOf = rememberingPartitioner(base)();
    const reference = Partitioners.DefaultPartitioner();
    const ask = (key: string) =>
      partitionOf({ topic: 't', partitionMetadata: metadata(6), message: { key, value: 'v' } });
    for (let i = 0; i <= MAX_REMEMBERED_KEYS; i++) ask(`k${i}`);
    expect(asked).toHaveLength(MAX_REMEMBERED_KEYS + 1);
    // k0 was forgotten when the map was full: asked again, same answer.
    const args = { topic: 't', partitionMetadata: metadata(6), message: { key: 'k0', value: 'v' } };
    expect(ask('k0')).toBe(reference(args));
    expect(asked).toHaveLength(MAX_REMEMBERED_KEYS + 2);
  });
});
