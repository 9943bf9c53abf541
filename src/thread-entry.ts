/**
 * Where a worker thread's code comes from (the egress thread, the SQLite writer thread).
 *
 * Compiled (dist/): the .js file beside the module that starts the thread. From the TypeScript
 * sources (the test suite, benches under tsx): the build of those same sources in dist/ while it
 * is current — not older than any file under src/ — and otherwise the source itself, loaded
 * through tsx. A thread started through tsx pays ~0.5 CPU-s before its first message (a loader
 * thread, esbuild, every module transformed), against ~0.15 s for the build, and the suite starts
 * hundreds of them; an edit not yet built is never run stale.
 */
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface ThreadEntry {
  /** A file URL, or (eval) the code of an ES module to run. */
  readonly url: URL | string;
  readonly eval: boolean;
}

/** The sources and their build: this checkout's src/ and dist/ (another pair in tests). */
export interface SourceTree {
  readonly src: string;
  readonly dist: string;
}

/** This checkout's pair, whether this module runs from src/ or from its build in dist/. */
const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const CHECKOUT: SourceTree = { src: path.join(ROOT, 'src'), dist: path.join(ROOT, 'dist') };

/** `name` (no extension) beside `moduleUrl`, the import.meta.url of the module that starts the thread. */
export function threadEntry(moduleUrl: string, name: string, tree: SourceTree = CHECKOUT): ThreadEntry {
  if (!moduleUrl.endsWith('.ts')) return { url: new URL(`./${name}.js`, moduleUrl), eval: false };
  const source = fileURLToPath(new URL(`./${name}.ts`, moduleUrl));
  const rel = path.relative(tree.src, source);
  if (!rel.startsWith('..') && buildIsCurrent(tree))
    return { url: pathToFileURL(path.join(tree.dist, rel.replace(/\.ts$/, '.js'))), eval: false };
  const ts = pathToFileURL(source).href;
  return {
    url: `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(ts)}); })`,
    eval: true,
  };
}

/**
 * Names the calling thread for the OS (Linux: `/proc/thread-self/comm`, at most 15 bytes), so
 * `top -H`, `ps -L` and /proc/PID/task/TID/stat tell the gateway's threads apart: Node 20
 * names every thread `node`, and a CPU account per thread (bench/kafka-e2e.ts) needs to know
 * which one is the egress thread and which the writer. Called first thing by each thread's body;
 * the main thread keeps its name (it is the process's, which `ps` and service managers show).
 * Best effort: elsewhere than Linux, or without /proc, the thread stays unnamed.
 */
export function nameThread(name: string): void {
  try {
    writeFileSync('/proc/thread-self/comm', name.slice(0, 15));
  } catch {
    // not Linux, or /proc not mounted: a diagnostic only, nothing depends on it
  }
}

/**
 * The process's CPU-profiler flags, and only those: a process started with `--cpu-prof`
 * (`npm run bench -- --profile`) profiles the threads it starts too, each into its own file.
 * Nothing else of the parent's command line is taken (a loader such as tsx's is not wanted twice).
 */
export const profilerArgs = (): string[] =>
  process.execArgv.filter(
    (a) => a === '--cpu-prof' || a.startsWith('--cpu-prof-dir=') || a.startsWith('--cpu-prof-interval='),
  );

const checked = new Map<string, boolean>();

/**
 * Every file under src/ has its built twin in dist/ (a .ts its .js), written after it. Checked
 * once a process. Tests use the same rule to run the built CLI instead of its sources.
 */
export function buildIsCurrent(tree: SourceTree = CHECKOUT): boolean {
  let current = checked.get(tree.src);
  if (current !== undefined) return current;
  try {
    current = readdirSync(tree.src, { recursive: true, encoding: 'utf8' }).every((rel) => {
      const source = statSync(path.join(tree.src, rel));
      if (!source.isFile() || rel.endsWith('.d.ts')) return true; // declarations build to nothing
      const built = statSync(path.join(tree.dist, rel.replace(/\.ts$/, '.js')), { throwIfNoEntry: false });
      return built !== undefined && built.mtimeMs >= source.mtimeMs;
    });
  } catch {
    current = false;
  }
  checked.set(tree.src, current);
  return current;
}
