/**
 * The working calendar of the incident clock. A personal-data breach is notified to the
 * authorized body within one business day (Law of the Republic of Kazakhstan on personal data,
 * as amended by Law 44-VIII of 11 Dec 2023). Read here as: by the end of the Nth business day
 * after the local day of discovery, in the operator's time zone (Asia/Almaty by default), where
 * Saturdays, Sundays and the configured public holidays are not business days.
 */
export interface WorkingCalendar {
  readonly timeZone: string;
  /** MM-DD (every year) or YYYY-MM-DD (once). */
  readonly holidays: readonly string[];
}

const DAY = 86_400_000;

/** The local calendar date of `ms` in `timeZone`, as [year, month (1-12), day]. */
function localDate(ms: number, timeZone: string): [number, number, number] {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(ms)
    .reduce<Record<string, string>>((acc, p) => ({ ...acc, [p.type]: p.value }), {});
  return [Number(parts.year), Number(parts.month), Number(parts.day)];
}

/** Offset of `timeZone` from UTC at `ms`, in ms (Asia/Almaty: +5 h). */
function offsetAt(ms: number, timeZone: string): number {
  const p = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  })
    .formatToParts(ms)
    .reduce<Record<string, number>>(
      (acc, x) => (x.type === 'literal' ? acc : { ...acc, [x.type]: Number(x.value) }),
      {},
    );
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) - (ms - (ms % 1000));
}

/** The instant local midnight starts on a date in `timeZone`. */
function localMidnight(y: number, m: number, d: number, timeZone: string): number {
  const guess = Date.UTC(y, m - 1, d);
  const first = guess - offsetAt(guess, timeZone);
  return guess - offsetAt(first, timeZone);
}

const pad = (n: number) => String(n).padStart(2, '0');

export function isBusinessDay(y: number, m: number, d: number, cal: WorkingCalendar): boolean {
  const weekday = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  if (weekday === 0 || weekday === 6) return false;
  const md = `${pad(m)}-${pad(d)}`;
  return !cal.holidays.includes(md) && !cal.holidays.includes(`${y}-${md}`);
}

/** When the notice is due: the end of the `days`th business day after the local day of `discoveredAt`. */
export function noticeDueAt(discoveredAt: number, days: number, cal: WorkingCalendar): number {
  let [y, m, d] = localDate(discoveredAt, cal.timeZone);
  for (let counted = 0; counted < days;) {
    const next = new Date(Date.UTC(y, m - 1, d) + DAY);
    [y, m, d] = [next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate()];
    if (isBusinessDay(y, m, d, cal)) counted++;
  }
  const next = new Date(Date.UTC(y, m - 1, d) + DAY);
  return localMidnight(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), cal.timeZone);
}

/** Throws a RangeError when the time zone is unknown to this runtime (checked once at start). */
export function checkTimeZone(timeZone: string): void {
  new Intl.DateTimeFormat('en-US', { timeZone });
}
