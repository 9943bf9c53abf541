/**
 * Whether a Kafka broker answers a metadata request, asked from this process with kafkajs (the
 * client the tests use). `deploy/kafka.sh status` asks the same with Kafka's own TopicCommand, a
 * JVM: ~1.1 CPU-s and ~3 s on this project's 2-core machine, against a few tens of milliseconds
 * here. Resolves to undefined when it answers, else to why not.
 */
import { Kafka, logLevel } from 'kafkajs';

export async function kafkaUnanswered(broker: string, timeoutMs = 10_000): Promise<string | undefined> {
  const admin = new Kafka({
    clientId: 'shekara-test-setup',
    brokers: [broker],
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(5_000, timeoutMs),
    requestTimeout: timeoutMs,
    retry: { retries: 2, initialRetryTime: 200 },
  }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
