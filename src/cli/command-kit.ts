/**
 * What the command declarations (main.ts and the *-commands.ts groups) share. Only types and
 * argument parsers: importing this loads nothing, so `shekara --help` stays light.
 */

/** Wraps a subcommand's action so its module is imported only when the command runs (main.ts). */
export type Lazy = <M>(
  load: () => Promise<M>,
  pick: (m: M) => (...args: never[]) => unknown,
) => (...args: unknown[]) => Promise<void>;

/** Commander argument parser: a whole number, or a usage error naming the value. */
export function toInt(v: string): number {
  if (!/^\d+$/.test(v)) throw new Error(`expected a whole number, got "${v}"`);
  return Number(v);
}

/** Commander argument parser: a positive finite number, or a usage error naming the value. */
export function toNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`expected a positive number, got "${v}"`);
  return n;
}
