/**
 * No import circles in src/ (code review 2026-12). A circle makes the load order decide which
 * module sees the other's bindings still undefined. Counted are the
 * imports that load a module at run time: static imports and re-exports, and import() calls;
 * `import type` is erased by the compiler and cannot form one.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve('src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const typeOnly = (n: ts.ImportDeclaration | ts.ExportDeclaration): boolean => {
  if (ts.isExportDeclaration(n)) return n.isTypeOnly;
  const clause = n.importClause;
  if (!clause) return false; // import './x.js': loads it
  if (clause.isTypeOnly) return true;
  const named = clause.namedBindings;
  return (
    !clause.name &&
    named !== undefined &&
    ts.isNamedImports(named) &&
    named.elements.length > 0 &&
    named.elements.every((e) => e.isTypeOnly)
  );
};

/** Each file's relative imports that load a module at run time, as absolute paths. */
function runtimeImports(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const add = (spec: string) => {
    if (!spec.startsWith('.')) return;
    const target = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
    out.push(existsSync(target) ? target : path.join(target.replace(/\.ts$/, ''), 'index.ts'));
  };
  const visit = (n: ts.Node) => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && !typeOnly(n))
      add((n.moduleSpecifier as ts.StringLiteral).text);
    if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = n.arguments;
      if (arg && ts.isStringLiteral(arg)) add(arg.text);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** Every relative import of a file, type-only ones too, as paths under src/. */
function allImports(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  return sf.statements
    .filter((n) => (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier !== undefined)
    .map((n) => ((n as ts.ImportDeclaration).moduleSpecifier as ts.StringLiteral).text)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => path.relative(SRC, path.resolve(path.dirname(file), spec)));
}

/** The strongly connected groups of more than one module (Tarjan), each as sorted paths under src/. */
function importCircles(files: string[]): string[][] {
  const graph = new Map(files.map((f) => [f, runtimeImports(f)]));
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const connect = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(path.relative(SRC, w));
    } while (w !== v);
    // A module outside the graph (a generated .js validator) imports nothing of src: a leaf.
    if (group.length > 1 || (graph.get(v) ?? []).includes(v)) circles.push(group.sort());
  };
  for (const f of graph.keys()) if (!index.has(f)) connect(f);
  return circles;
}

describe('src imports', () => {
  it('form no circle', () => {
    const files = sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(100); // the walk found the sources
    expect(importCircles(files)).toEqual([]);
  });

  it('policy does not reach up into ingest: the decoder both use sits beside src/record.ts', () => {
    const upward = sourceFiles(path.join(SRC, 'policy')).flatMap((f) =>
      runtimeImports(f)
        .filter((t) => t.startsWith(path.join(SRC, 'ingest') + path.sep))
        .map((t) => `${path.relative(SRC, f)} → ${path.relative(SRC, t)}`),
    );
    expect(upward).toEqual([]);
  });

  it('the pure audit code names nothing of the store, not even a type: the store builds on it', () => {
    // Leaf bodies, leaf encoding and RFC 9162 hashing are the layer the store writes with; the
    // checkpoint service (index.ts, integrator.ts, …) is the layer above that reads the store.
    const pure = ['merkle.ts', 'compact-range.ts', 'leaf.ts', 'events.ts'].map((f) => path.join(SRC, 'audit', f));
    const intoStore = pure.flatMap((f) =>
      allImports(f)
        .filter((t) => t.startsWith('store' + path.sep))
        .map((t) => `${path.relative(SRC, f)} → ${t}`),
    );
    expect(intoStore).toEqual([]);
  });

  it('an API surface imports nothing of another, but the workbench it mounts: what several answer alike is in api/views', () => {
    const surfaces = ['admin', 'oem', 'owner', 'regulator', 'workbench'];
    const mountable = new Set([path.join('api', 'workbench', 'index.ts'), path.join('api', 'workbench', 'deps.ts')]);
    const sideways = surfaces.flatMap((own) =>
      sourceFiles(path.join(SRC, 'api', own)).flatMap((f) =>
        allImports(f)
          .map((t) => t.replace(/\.js$/, '.ts'))
          .filter((t) => {
            const [top, surface] = t.split(path.sep);
            return top === 'api' && surface !== own && surfaces.includes(surface!) && !mountable.has(t);
          })
          .map((t) => `${path.relative(SRC, f)} → ${t}`),
      ),
    );
    expect(sideways).toEqual([]);
  });
});
