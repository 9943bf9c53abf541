#!/usr/bin/env node
// Compiles a COVESA VSS release's .vspec sources into the compact catalog Shekara ships
// (src/catalog/vss/vss.json): one entry per signal path, instances expanded, only the fields
// the gateway checks (type, datatype, unit, min, max, allowed, pattern).
//
//   git -C vehicle_signal_specification archive v6.0 spec overlays LICENSE | tar -x -C /tmp/vss
//   node scripts/vss-catalog.mjs /tmp/vss v6.0 <commit> > src/catalog/vss/vss.json
//
// The .vspec format (VSS documentation, "Specification format"): YAML maps of dotted names,
// `#include FILE PREFIX` lines that graft another file under PREFIX, and `instances` on a
// branch that repeat its children under each instance name (`Row[1,2]` is Row1, Row2; a list of
// lists is one level per list). Later definitions of a node override earlier ones (overlays).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';

const [root, release, commit] = process.argv.slice(2);
if (!root || !release || !commit) {
  console.error('usage: vss-catalog.mjs SPEC_ROOT RELEASE COMMIT');
  process.exit(2);
}

/** Full path → merged node definition, in definition order. */
const nodes = new Map();

function load(file, prefix) {
  const text = readFileSync(file, 'utf8');
  let chunk = [];
  const flush = () => {
    const doc = parse(chunk.join('\n')) ?? {};
    for (const [name, def] of Object.entries(doc)) {
      const path = prefix ? `${prefix}.${name}` : name;
      nodes.set(path, { ...(nodes.get(path) ?? {}), ...def });
    }
    chunk = [];
  };
  for (const line of text.split('\n')) {
    const inc = /^#include\s+(\S+)(?:\s+(\S+))?/.exec(line);
    if (!inc) {
      chunk.push(line);
      continue;
    }
    flush();
    const sub = inc[2] ? (prefix ? `${prefix}.${inc[2]}` : inc[2]) : prefix;
    // Relative to the including file first, then the spec root (vss-tools' include path, `-I spec`).
    const near = join(dirname(file), inc[1]);
    load(existsSync(near) ? near : join(root, 'spec', inc[1]), sub);
  }
  flush();
}

load(join(root, 'spec/VehicleSignalSpecification.vspec'), '');
// The OBD branch moved to an overlay in VSS 4; the gateway's own decoder produces Vehicle.OBD.DTCList.
load(join(root, 'overlays/extensions/OBD.vspec'), '');

const range = (s) => {
  const m = /^(.*)\[(\d+),(\d+)\]$/.exec(s);
  if (!m) return [s];
  const out = [];
  for (let i = Number(m[2]); i <= Number(m[3]); i++) out.push(`${m[1]}${i}`);
  return out;
};
/** Instance levels of a branch: each level a list of names. */
function levels(inst) {
  if (inst === undefined) return [];
  if (typeof inst === 'string') return [range(inst)];
  if (inst.every((x) => typeof x === 'string' && !/\[/.test(x))) return [inst];
  return inst.map((x) => (typeof x === 'string' ? range(x) : x.flatMap(range)));
}

/** Expands instance levels: a path under an instantiated branch exists once per instance combination. */
function expand(path) {
  const segs = path.split('.');
  let outs = [segs[0]];
  for (let i = 1; i < segs.length; i++) {
    const parent = segs.slice(0, i).join('.');
    const def = nodes.get(parent);
    const lv = def && def.type === 'branch' ? levels(def.instances) : [];
    for (const names of lv) outs = outs.flatMap((o) => names.map((n) => `${o}.${n}`));
    outs = outs.map((o) => `${o}.${segs[i]}`);
  }
  return outs;
}

const signals = {};
const branches = {};
for (const [path, def] of nodes) {
  if (def.type === 'branch') {
    for (const p of expand(path)) branches[p] = 1;
    continue;
  }
  const entry = { t: def.type, d: def.datatype };
  if (def.unit !== undefined) entry.u = def.unit;
  if (def.min !== undefined) entry.min = def.min;
  if (def.max !== undefined) entry.max = def.max;
  if (def.allowed !== undefined) entry.a = def.allowed;
  if (def.pattern !== undefined) entry.re = def.pattern;
  for (const p of expand(path)) signals[p] = entry;
}

// Instance names become branches too (Vehicle.Cabin.Door.Row1 …).
for (const p of Object.keys(signals)) {
  const segs = p.split('.');
  for (let i = 1; i < segs.length; i++) branches[segs.slice(0, i).join('.')] = 1;
}

// Entries with the same definition are shared by index to keep the file small.
const defs = [];
const index = new Map();
const paths = {};
for (const p of Object.keys(signals).sort()) {
  const key = JSON.stringify(signals[p]);
  if (!index.has(key)) {
    index.set(key, defs.length);
    defs.push(signals[p]);
  }
  paths[p] = index.get(key);
}
process.stdout.write(
  JSON.stringify({
    source: 'https://github.com/COVESA/vehicle_signal_specification',
    release,
    commit,
    license: 'MPL-2.0',
    defs,
    signals: paths,
    branches: Object.keys(branches).sort(),
  }) + '\n',
);
