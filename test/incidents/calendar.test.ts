/**
 * The incident clock on the working calendar (Asia/Almaty, UTC+5): one business day after the
 * local day of discovery, over a weekend and over a public holiday.
 */
import { describe, expect, it } from 'vitest';
import { noticeDueAt } from '../../src/incidents/calendar.js';
import { KZ_FIXED_HOLIDAYS } from '../../src/config/schema.js';

const cal = { timeZone: 'Asia/Almaty', holidays: KZ_FIXED_HOLIDAYS };
/** Local midnight in Almaty (UTC+5) starting a date, as an ISO instant in UTC. */
const almatyMidnight = (date: string) => new Date(Date.parse(`${date}T00:00:00+05:00`)).toISOString();
const due = (at: string, holidays = cal.holidays) =>
  new Date(noticeDueAt(Date.parse(at), 1, { ...cal, holidays })).toISOString();

describe('incident clock › one business day on the Almaty calendar', () => {
  it('a breach found on a Tuesday is due by the end of Wednesday', () => {
    expect(due('2026-12-01T10:00:00+05:00')).toBe(almatyMidnight('2026-12-03'));
  });

  it('a breach found on a Friday afternoon is due by the end of Monday, not Saturday', () => {
    expect(due('2026-11-27T16:30:00+05:00')).toBe(almatyMidnight('2026-12-01'));
  });

  it('a breach found on a Saturday is due by the end of Monday', () => {
    expect(due('2026-11-28T09:00:00+05:00')).toBe(almatyMidnight('2026-12-01'));
  });

  it('counts the local day: 22:00 UTC on a Thursday is already Friday in Almaty, so it is due Monday', () => {
    expect(due('2026-11-26T22:00:00Z')).toBe(almatyMidnight('2026-12-01'));
  });

  it('skips a public holiday: found the day before Independence Day (Wed 16 Dec 2026), due by the end of Thursday 17th', () => {
    expect(due('2026-12-15T12:00:00+05:00')).toBe(almatyMidnight('2026-12-18'));
  });

  it('skips a holiday and the weekend after it: Friday 1 May 2026 is Labour Day, so Thursday 30 April → Monday 4 May', () => {
    expect(due('2026-04-30T12:00:00+05:00')).toBe(almatyMidnight('2026-05-05'));
    // Without the holiday the same breach is due by the end of Friday.
    expect(due('2026-04-30T12:00:00+05:00', [])).toBe(almatyMidnight('2026-05-02'));
  });

  it('a one-off holiday (YYYY-MM-DD) counts only in its year', () => {
    expect(due('2026-12-01T10:00:00+05:00', ['2026-12-02'])).toBe(almatyMidnight('2026-12-04'));
    expect(due('2027-12-01T10:00:00+05:00', ['2026-12-02'])).toBe(almatyMidnight('2027-12-03'));
  });
});
