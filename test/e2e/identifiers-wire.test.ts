/**
 * The red-team review's M6 payload over the wire: a real MQTT car sends the owner's name, phone
 * and IIN in a free-text signal a policy passes (exact path, with a reason), and another car's VIN
 * base64-encoded behind one byte; the real HTTP OEM endpoint gets the technical signal only, and
 * the egress log says why the rest stayed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '../../src/ingest/index.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const POLICY = `oem: demo-oem
purposes:
  - id: workshop
    description: engine codes for the workshop
    fields:
      Vehicle.Speed: pass
      Vehicle.Powertrain.CombustionEngine.EngineCode: { transform: pass, reason: the workshop reads it }
`;
const CODE = 'Vehicle.Powertrain.CombustionEngine.EngineCode';

describe('identifiers over the wire (red-team M6)', () => {
  let gw: TestGateway;
  afterAll(async () => gw?.stop());

  it("sends neither the owner's data nor another car's VIN, in a field the policy passes", async () => {
    gw = await startTestGateway({ cars: 2, policy: POLICY });
    const [car, other] = gw.cars as [(typeof gw.cars)[0], (typeof gw.cars)[0]];
    const client = await gw.connect(car);
    const send = (speed: number, code: string) =>
      client.publishAsync(
        telemetryTopic(car.vin),
        JSON.stringify({
          ts: new Date().toISOString(),
          speed,
          account: { owner: { name: 'Ivan Petrov', phone: '+77011234567', iin: '900101300123' } },
          signals: { [CODE]: code },
        }),
        { qos: 1 },
      );
    await send(41, 'Ivan Petrov +77011234567 IIN 900101300123');
    await send(42, Buffer.concat([Buffer.from('x'), Buffer.from(other.vin)]).toString('base64'));
    await send(43, 'I.v.a.n P.e.t.r.o.v');
    await send(44, 'M274 DE20');
    await eventually(() => gw.sink.deliveries.length >= 4, 15_000, 'four deliveries');
    const signals = gw.sink.deliveries.map((d) => (d.body as { signals: Record<string, unknown> }).signals);
    expect(signals).toEqual([
      { 'Vehicle.Speed': 41 },
      { 'Vehicle.Speed': 42 },
      { 'Vehicle.Speed': 43 },
      { 'Vehicle.Speed': 44, [CODE]: 'M274 DE20' },
    ]);
    const text = JSON.stringify(gw.sink.deliveries.map((d) => d.body));
    for (const secret of ['Petrov', '7011234567', '900101300123', other.vin]) expect(text).not.toContain(secret);
  });
});
