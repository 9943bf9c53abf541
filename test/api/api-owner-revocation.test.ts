/**
 * Revocation under load, measured: a car publishes continuously (20 messages/s) while its owner
 * revokes consent through the API. Nothing of that vehicle and purpose may reach the OEM sink
 * later than one second after the revocation's answer — with the local queue and with Kafka,
 * while deliveries flow and while a backlog waits for an OEM that is down. The measured gap
 * (last delivery vs the answer) and the count after the answer are printed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/gateway.js';
import { KAFKA_BROKERS, uniquePrefix } from '../egress/helpers.js';
import { OWNER_POLICY, startOwnerGateway, type OwnerGateway } from './owner-helpers.js';

// Two purposes per record (speed, with consent; odometer, the control), not three: each
// vehicle's deliveries go one at a time, in order, so fewer rows per message keep the queue
// from growing on a loaded machine.
const POLICY = OWNER_POLICY.replace(/ {2}- id: battery-score[\s\S]*?(?= {2}- id: odometer)/, '');

const RATE = 20; // messages per second per car
const AFTER_MS = 3_000; // publishing goes on this long after the answer

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

    /** Both cars publish at RATE; car 0's owner revokes speed (during an OEM outage if `outage`). */
    async function revokeWhilePublishing(outage: boolean) {
      let publishing = true;
      let published = 0;
      const car = async (i: number) => {
        for (let next = Date.now(); publishing; next += 1_000 / RATE) {
          try {
            await o.publish(i, 1);
          } catch (err) {
            if (publishing) throw err; // after the end, the gateway may already be closing
          }
          published += 1;
          await new Promise((r) => setTimeout(r, Math.max(0, next + 1_000 / RATE - Date.now())));
        }
      };
      const cars = Promise.all([car(0), car(1)]);
      try {
        const before = o.delivered(0, 'speed').length;
        await eventually(() => o.delivered(0, 'speed').length >= before + RATE, 60_000, 'a second of speed deliveries');
        if (outage) {
          o.gw.sink.setStatus(503); // a backlog builds up behind the failing deliveries
          await new Promise((r) => setTimeout(r, 1_000));
        }
        const asked = Date.now();
        const res = await o.owner<{ revoked: number; blockedPending: number }>(
          'DELETE',
          `/vehicles/${o.gw.cars[0]!.vin}/consents/speed`,
        );
        const answered = Date.now();
        expect(res.status).toBe(200);
        expect(res.body.revoked).toBe(1);
        if (outage) {
          await new Promise((r) => setTimeout(r, 500));
          o.gw.sink.setStatus(200);
        }
        // Publishing goes on at least AFTER_MS, and until the pipeline has visibly moved on past
        // the one-second mark — the same car's other purposes and the other car's speed — so an
        // empty result below cannot come from a stalled queue (a loaded machine drains slower).
        const moved = (ds: { at: number }[]) => ds.filter((d) => d.at > answered + 1_000).length >= RATE;
        await eventually(
          () => moved(o.delivered(0, 'odometer')) && moved(o.delivered(1, 'speed')),
          60_000,
          'deliveries going on after the revocation',
        );
        await new Promise((r) => setTimeout(r, Math.max(0, answered + AFTER_MS - Date.now())));
        publishing = false;
        await cars;
        // Let whatever was still on its way arrive (it must not be car 0's speed): until the
        // sink has heard nothing for 1.5 s.
        for (let seen = -1; seen !== o.gw.sink.deliveries.length;) {
          seen = o.gw.sink.deliveries.length;
          await new Promise((r) => setTimeout(r, 1_500));
        }

        const speed = o.delivered(0, 'speed');
        const last = Math.max(...speed.map((d) => d.at));
        const after = speed.filter((d) => d.at > answered);
        console.log(
          `[${kind} queue${outage ? ', OEM down at revocation' : ''}] revocation answered in ${answered - asked} ms, ` +
            `${res.body.blockedPending} queued deliveries blocked by it; last speed delivery of the car ${last - answered} ms after the answer; ` +
            `${after.length} delivered after the answer (${published} messages published by the two cars)`,
        );
        expect(speed.filter((d) => d.at > answered + 1_000)).toEqual([]);
        if (outage) expect(res.body.blockedPending).toBeGreaterThan(0);
      } finally {
        publishing = false;
        await cars;
      }
    }

    it('lets nothing of that vehicle and purpose reach the OEM later than one second after the answer', async () => {
      await revokeWhilePublishing(false);
    }, 120_000);

    it('stops the backlog queued for that vehicle and purpose when the OEM comes back', async () => {
      const g = await o.owner('POST', `/vehicles/${o.gw.cars[0]!.vin}/consents`, { body: { purpose: 'speed' } });
      expect(g.status).toBe(201);
      await revokeWhilePublishing(true);
    }, 120_000);
  });
}
