import fc from 'fast-check';
/**
 * How long a fuzzer runs: FUZZ_SECONDS of cases or FUZZ_RUNS cases, whichever ends first;
 * FUZZ_SEED replays a run. The default, DEFAULT_FUZZ_SECONDS, is a smoke run sized for
 * `npm test` (every check on every path the generators reach, a few hundred cases, a fresh
 * seed each run); the search for rare inputs is `bash bench/fuzz.sh [SECONDS]`, ten minutes a
 * file by default.
 */
export interface FuzzBudget {
  readonly ms: number;
  readonly runs: number;
  readonly seed: number | undefined;
  /** A vitest timeout that leaves room for set-up and the final checks. */
  readonly timeout: number;
  /**
   * True once the time is up: a property returns at once then. fast-check's own time limit
   * leaves the case under way running on, unawaited, which would race the final counts.
   */
  over(): boolean;
  /** Starts the clock (assertProperty does, once per property). */
  begin(): void;
}

/** Seconds of cases per fuzzed endpoint in `npm test` (FUZZ_SECONDS overrides). */
export const DEFAULT_FUZZ_SECONDS = 5;

export function fuzzBudget(defaultSeconds = DEFAULT_FUZZ_SECONDS): FuzzBudget {
  const num = (name: string) => {
    const v = process.env[name];
    return v === undefined || v === '' ? undefined : Number(v);
  };
  const ms = (num('FUZZ_SECONDS') ?? defaultSeconds) * 1000;
  let deadline = Number.POSITIVE_INFINITY;
  return {
    ms,
    runs: num('FUZZ_RUNS') ?? 1_000_000,
    seed: num('FUZZ_SEED'),
    timeout: ms + 120_000,
    over: () => Date.now() > deadline,
    begin: () => {
      deadline = Date.now() + ms;
    },
  };
}

/**
 * fc.assert, bounded by the budget, without shrinking against a live gateway, and with a short
 * failure: the counterexample's first 300 characters, its length and the seed to replay it.
 */
export async function assertProperty<T>(property: fc.IAsyncPropertyWithHooks<T>, budget: FuzzBudget): Promise<void> {
  budget.begin();
  const r = await fc.check(property, {
    numRuns: budget.runs,
    seed: budget.seed,
    endOnFailure: true,
    // Only stops drawing inputs after the deadline: every case then returns at once (over()).
    interruptAfterTimeLimit: budget.ms + 3_000,
    markInterruptAsFailure: false,
  });
  if (!r.failed) return;
  const example = JSON.stringify((r.counterexample as unknown[] | null)?.[0] ?? null);
  const cause = r.errorInstance instanceof Error ? r.errorInstance.message : String(r.errorInstance);
  throw new Error(
    `fuzz case ${r.numRuns} failed: ${cause}\n  input (${example.length} chars): ${example.slice(0, 300)}\n  replay: FUZZ_SEED=${r.seed} (path ${r.counterexamplePath})`,
  );
}
