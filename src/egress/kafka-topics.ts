/**
 * The per-OEM Kafka topic names, apart from kafka-queue.ts: the admin API and tests name the
 * topics without loading kafkajs, which only a gateway with a Kafka queue needs.
 */
export const topicOf = (prefix: string, oem: string): string => `${prefix}egress.${oem}`;
export const dlqTopicOf = (prefix: string, oem: string): string => `${prefix}egress.${oem}.dlq`;
