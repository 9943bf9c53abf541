/**
 * Waiting, at start, until the egress topics can be used: every partition known to the broker
 * and led. A topic the controller has just created (by this gateway, another instance starting
 * beside it, an operator, a test) is not yet in every broker's metadata: until it is, a
 * consumer's subscribe or a metadata request fails with UNKNOWN_TOPIC_OR_PARTITION ("This server
 * does not host this topic-partition"), or LEADER_NOT_AVAILABLE while its leaders are elected.
 * kafkajs's own `createTopics({ waitForLeaders })` retries only the second, and not at all when
 * the topic already existed, and its consumer treats the first as final.
 *
 * Why wait for a known state rather than retry the whole start: the start has side effects
 * (a connected producer, consumers joined to their groups) that a blind retry would repeat or
 * leak; the state waited for is one metadata request away, can be logged and bounded.
 * Only those two errors mean "not yet"; any other (authorization, an invalid topic, a broker
 * that cannot be reached) is thrown at once.
 */
import type { Admin } from 'kafkajs';
import type { Logger } from '../log.js';
import { ShekaraError } from '../errors.js';

/** The kafkajs error types that mean "created, not yet known or led here": waited out. */
const NOT_YET = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

const typeOf = (err: unknown): string | undefined => (err as { type?: unknown }).type as string | undefined;

/** The topics (of `topics`) that do not yet have a leader for every partition; all of them if unknown. */
async function notReady(admin: Pick<Admin, 'fetchTopicMetadata'>, topics: readonly string[]): Promise<string[]> {
  try {
    const { topics: meta } = await admin.fetchTopicMetadata({ topics: [...topics] });
    const ready = new Set(
      meta.filter((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)).map((t) => t.name),
    );
    return topics.filter((t) => !ready.has(t));
  } catch (err) {
    if (NOT_YET.has(typeOf(err) ?? '')) return [...topics];
    throw err;
  }
}

/**
 * Resolves once every partition of every topic has a leader; polls the metadata with a backoff
 * (50 ms doubling to 1 s). Logs at info what it waits for and, when it had to wait, how long.
 * Rejects with SHK_EGRESS_KAFKA naming the topics still not ready after `timeoutMs`.
 */
export async function awaitTopicLeaders(
  admin: Pick<Admin, 'fetchTopicMetadata'>,
  topics: readonly string[],
  opts: { timeoutMs: number; log: Logger; now?: () => number },
): Promise<void> {
  const now = opts.now ?? Date.now;
  const started = now();
  let waiting = await notReady(admin, topics);
  if (waiting.length === 0) return;
  opts.log.info({ topics: waiting, timeoutMs: opts.timeoutMs }, 'egress: waiting for Kafka topic leaders');
  for (let delay = 50; waiting.length > 0; delay = Math.min(delay * 2, 1_000)) {
    const left = opts.timeoutMs - (now() - started);
    if (left <= 0) {
      throw new ShekaraError(
        'SHK_EGRESS_KAFKA',
        `Kafka topics not ready after ${opts.timeoutMs} ms (no leader for every partition): ${waiting.join(', ')}`,
        { retriable: true, details: { topics: waiting, timeoutMs: opts.timeoutMs } },
      );
    }
    await new Promise((r) => setTimeout(r, Math.min(delay, left)));
    waiting = await notReady(admin, waiting);
  }
  opts.log.info({ topics, waitedMs: now() - started }, 'egress: Kafka topic leaders ready');
}
