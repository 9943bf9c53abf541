#!/usr/bin/env bash
# Longer fuzzing runs than CI's: the three fuzzers of test/fuzz/ (MQTT packets against the car
# endpoint, telemetry payloads through decode → commit on SQLite and PostgreSQL, every API route
# from its OpenAPI document), each for SECONDS (default 600) of cases. Needs PostgreSQL on
# 127.0.0.1:5432 (database `test`) as `npm test` does. FUZZ_SEED=N replays a failing run.
#   bash bench/fuzz.sh [SECONDS] [test/fuzz/FILE.test.ts ...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
shift || true
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(test/fuzz/mqtt-packets.test.ts test/fuzz/telemetry.test.ts test/fuzz/api-routes.test.ts)
for f in "${files[@]}"; do
  FUZZ_SECONDS="$seconds" npx vitest run "$f" --reporter=verbose 2>&1 | grep -E '^fuzz |✓|×|FAIL|replay:|failed'
done
