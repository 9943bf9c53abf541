/** ISO 8601 durations of days, hours, minutes and seconds (no months or years: they vary in length). */
const RE = /^P(?!$)(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/** Milliseconds in a duration such as `PT1M`; throws a reason on anything else or on zero. */
export function parseDuration(text: string): number {
  const m = RE.exec(text);
  if (!m) throw new Error(`"${text}" is not an ISO 8601 duration such as PT1M, PT1H or P30D`);
  const [, d = '0', h = '0', min = '0', s = '0'] = m;
  const ms = (((Number(d) * 24 + Number(h)) * 60 + Number(min)) * 60 + Number(s)) * 1000;
  if (ms <= 0) throw new Error(`"${text}" must be longer than zero`);
  return ms;
}
