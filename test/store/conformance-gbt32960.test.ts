/**
 * GB/T 32960 terminal identity on every Store backend (src/store/gbt32960-terminals/): the
 * first login pins its ICCID, a cleared pin (after a SIM swap) takes the next login's ICCID and
 * keeps the serial count, both across a reopen, and erasing the vehicle deletes the row.
 */
import { describe, expect, it } from 'vitest';
import type { Gbt32960Login } from '../../src/store/gbt32960-terminals/types.js';
import { backends, useBackend, VIN1, VIN2 } from './backends.js';

const login = (serial: number, iccid: string, vin = VIN1): Gbt32960Login => ({
  vin,
  iccid,
  day: '2026-03-04',
  serial,
  at: serial,
  pinIccid: true,
  checkSerial: true,
});

describe.each(backends())('store conformance, GB/T 32960 terminals: $name', (backend) => {
  const { fresh, second } = useBackend(backend);

  it('pins the first ICCID; a cleared pin takes the next login’s card and keeps the serial count', async () => {
    const store = await fresh();
    expect(await store.clearGbt32960IccidPin(VIN1)).toBe(false); // never logged in
    expect(await store.checkGbt32960Login(login(1, 'OLD'))).toBe('ok');
    expect(await store.checkGbt32960Login(login(2, 'NEW'))).toBe('iccid-mismatch');
    expect(await store.clearGbt32960IccidPin(VIN1)).toBe(true);
    expect(await store.clearGbt32960IccidPin(VIN1)).toBe(false);
    const again = await second();
    // The serial count survived the clear: a replayed login of either card is refused.
    expect(await again.checkGbt32960Login(login(1, 'OLD'))).toBe('serial-not-increasing');
    expect(await again.checkGbt32960Login(login(3, 'NEW'))).toBe('ok');
    expect(await store.checkGbt32960Login(login(4, 'OLD'))).toBe('iccid-mismatch');
    expect(await store.checkGbt32960Login(login(4, 'NEW'))).toBe('ok');
    // Another VIN is judged on its own.
    expect(await store.clearGbt32960IccidPin(VIN2)).toBe(false);
    expect(await store.checkGbt32960Login(login(1, 'OLD', VIN2))).toBe('ok');
  });

  it('erasing the vehicle deletes its terminal row: pin and serial count are gone', async () => {
    const store = await fresh();
    expect(await store.checkGbt32960Login(login(5, 'OLD'))).toBe('ok');
    await store.eraseVehicle(VIN1);
    expect(await store.clearGbt32960IccidPin(VIN1)).toBe(false);
    expect(await store.checkGbt32960Login(login(1, 'NEW'))).toBe('ok');
  });
});
