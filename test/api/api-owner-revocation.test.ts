/**
 * Revocation under load: two cars publish continuously while car 0's owner revokes the `speed`
 * consent through the API — with the local queue and with Kafka, while deliveries flow and while
 * a backlog waits for an OEM that is down. Nothing of a record observed after the revocation's
 * answer reaches the OEM for that vehicle and purpose, the backlog queued before it is never
 * sent, and everything else (the same car's other purpose, the other car's speed) flows on.
 * How late an in-flight delivery can arrive is measured, not asserted: bench/revocation.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/gateway.js';
import { KAFKA_BROKERS, uniquePrefix } from '../egress/helpers.js';
import { nextTelemetry } from '../../src/sim/telemetry.js';
import { OWNER_POLICY, startOwnerGateway, type OwnerGateway } from './owner-helpers.js';

// Two purposes per record (speed, with consent; odometer, the control), not three: each
// vehicle's deliveries go one at a time, in order, so fewer rows per message keep the queue
// from growing on a loaded machine.
const POLICY = OWNER_POLICY.replace(/ {2}- id: battery-score[\s\S]*?(?= {2}- id: odometer)/, '');

const RATE = 20; // messages per second per car: a pace for the load, not a bound

for (const kind of ['local', 'kafka'] as const) {
  describe(`owner API › revoking consent while the car publishes (${kind} queue)`, () => {
    let o: OwnerGateway;
    beforeAll(async () => {
      o = await startOwnerGateway({
        cars: 2,
        policy: POLICY,
        config: {
          egress: {
            initialBackoffMs: 20,
            maxBackoffMs: 100,
            pollIntervalMs: 50,
            requestTimeoutMs: 2_000,
            breaker: { failureThreshold: 1_000, openMs: 100 },
            queue: {
              kind,
              kafka: {
                brokers: KAFKA_BROKERS,
                topicPrefix: uniquePrefix(),
                partitions: 3,
                maxWaitTimeMs: 50,
                relayLingerMs: 2,
              },
            },
          },
        },
      });
      for (const i of [0, 1]) {
        const g = await o.owner('POST', `/vehicles/${o.gw.cars[i]!.vin}/consents`, {
          token: o.tokens[i],
          body: { purpose: 'speed' },
        });
        expect(g.status).toBe(201);
      }
    });
    afterAll(async () => o?.stop());

    /**
     * Both cars publish at RATE; car 0's owner revokes speed (with the OEM down from before the
     * revocation until after its answer if `outage`). Returns once every message published has
     * been delivered for the purposes still allowed: car 0's speed deliveries, the answer's time
     * and body, and car 0's speed deliveries when the outage began.
     */
    async function revokeWhilePublishing(outage: boolean) {
      let publishing = true;
      let answered = Infinity;
      // Per car: messages stored, those of them observed after the answer, the last one's time.
      const sent = [0, 1].map(() => ({ stored: 0, storedAfter: 0, lastObserved: 0 }));
      const car = async (i: number) => {
        const c = sent[i]!;
        for (let next = Date.now(); publishing; next += 1_000 / RATE) {
          try {
            await o.publish(i, 1, (sim) => nextTelemetry(sim, (c.lastObserved = Date.now())));
          } catch (err) {
            if (publishing) throw err; // after the end, the gateway may already be closing
          }
          c.stored += 1;
          if (c.lastObserved > answered) c.storedAfter += 1;
          await new Promise((r) => setTimeout(r, Math.max(0, next + 1_000 / RATE - Date.now())));
        }
      };
      const cars = Promise.all([car(0), car(1)]);
      try {
        const before = o.delivered(0, 'speed').length;
        await eventually(() => o.delivered(0, 'speed').length >= before + RATE, 60_000, 'speed deliveries of car 0');
        let atOutage = -1;
        if (outage) {
          o.gw.sink.setStatus(503); // from here on, no delivery is taken: a backlog builds up
          atOutage = o.delivered(0, 'speed').length;
          const stored = sent[0]!.stored;
          await eventually(() => sent[0]!.stored >= stored + RATE, 60_000, 'car 0 messages stored during the outage');
        }
        const res = await o.owner<{ revoked: number; blockedPending: number }>(
          'DELETE',
          `/vehicles/${o.gw.cars[0]!.vin}/consents/speed`,
        );
        answered = Date.now();
        expect(res.status).toBe(200);
        expect(res.body.revoked).toBe(1);
        if (outage) o.gw.sink.setStatus(200);
        // Each car goes on publishing RATE messages observed after the answer, then stops.
        await eventually(
          () => sent.every((c) => c.storedAfter >= RATE),
          60_000,
          'messages stored after the revocation',
        );
        publishing = false;
        await cars;
        // Then every message published is delivered for what is still allowed (each vehicle's
        // deliveries go in order), so nothing of car 0's speed is left on its way and an empty
        // result below cannot come from a stalled queue: the same car's other purpose and the
        // other car's speed went on past the answer.
        const has = (i: number, purpose: string) =>
          o.delivered(i, purpose).some((d) => d.observedAt === sent[i]!.lastObserved);
        await eventually(
          () => has(0, 'odometer') && has(1, 'speed') && has(1, 'odometer'),
          60_000,
          'the last message of each car delivered',
        );
        const after = (ds: { observedAt: number }[]) => ds.filter((d) => d.observedAt > answered).length;
        expect(after(o.delivered(0, 'odometer'))).toBeGreaterThanOrEqual(RATE);
        expect(after(o.delivered(1, 'speed'))).toBeGreaterThanOrEqual(RATE);
        return { speed: o.delivered(0, 'speed'), answered, body: res.body, atOutage };
      } finally {
        publishing = false;
        await cars;
      }
    }

    it('delivers nothing of that vehicle and purpose observed after the answer, while the rest flows on', async () => {
      const { speed, answered } = await revokeWhilePublishing(false);
      expect(speed.filter((d) => d.observedAt > answered)).toEqual([]);
    }, 180_000);

    it('never sends the backlog queued for that vehicle and purpose, once the OEM is back', async () => {
      const g = await o.owner('POST', `/vehicles/${o.gw.cars[0]!.vin}/consents`, { body: { purpose: 'speed' } });
      expect(g.status).toBe(201);
      const { speed, body, atOutage } = await revokeWhilePublishing(true);
      expect(body.blockedPending).toBeGreaterThan(0);
      expect(speed).toHaveLength(atOutage); // not one delivery since the OEM went down
    }, 180_000);
  });
}
