/**
 * Re-renders the results section of docs/benchmarks.md and the chart from a saved JSON result,
 * without rerunning anything (after a change to the report's wording or the chart's layout).
 *   node --import tsx bench/rerender.ts docs/benchmarks/latest.json
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from './procs.js';
import { writeReport, type BenchResults } from './report.js';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: rerender.ts RESULTS.json\n');
  process.exit(2);
}
const results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
const written = await writeReport(results, path.join(REPO, 'docs'));
process.stdout.write(`wrote ${written.join(', ')}\n`);
