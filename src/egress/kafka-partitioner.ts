/**
 * The relay producer's partitioner: kafkajs's default one (the Java client's: murmur2 of the key,
 * modulo the topic's partition count), remembered per topic, partition count and key.
 *
 * Why: the default hashes every message's key again, in JavaScript (and filters the partition
 * list first), on the egress thread, for every row the relay publishes; a vehicle's pseudonym
 * always lands in the same partition, so one hash per vehicle is enough. The answer MUST be the
 * default's, unchanged: a vehicle's messages published before and after (by this process, an
 * older one, or another instance) must share one partition, or their order is lost. So a key's
 * partition is asked of the default once and reused only for the same topic and partition
 * count; messages with a partition or without a key go to the default as they are.
 */
import { Partitioners, type ICustomPartitioner } from 'kafkajs';

/** Keys remembered at most (then forgotten all at once: a few MB at most, re-learned at once). */
export const MAX_REMEMBERED_KEYS = 100_000;

export const rememberingPartitioner =
  (base: ICustomPartitioner = Partitioners.DefaultPartitioner): ICustomPartitioner =>
  () => {
    const partitionOf = base();
    const known = new Map<string, number>();
    return (args) => {
      const { topic, partitionMetadata, message } = args;
      if (message.partition != null || typeof message.key !== 'string') return partitionOf(args);
      const k = `${topic}\n${partitionMetadata.length}\n${message.key}`;
      let p = known.get(k);
      if (p === undefined) {
        p = partitionOf(args);
        if (known.size >= MAX_REMEMBERED_KEYS) known.clear();
        known.set(k, p);
      }
      return p;
    };
  };
