/**
 * bench/profile-summary.ts charges each sample of a gateway .cpuprofile to a stage of the hot
 * path by the nearest frame on its stack that names one, and reads the phase of a bench run
 * that handles PUBLISHes, not start-up or the cars' connects. A made-up profile with known
 * stacks and times checks both (no figure of a real run is asserted).
 */
import { describe, expect, it } from 'vitest';
import {
  busiestWindow,
  EGRESS,
  stageOfFrame,
  summarise,
  type CallFrame,
  type Profile,
} from '../../bench/profile-summary.js';

const D = 'file:///repo/dist/';
const frame = (functionName: string, url = ''): CallFrame => ({ functionName, url, lineNumber: 0 });

/** A profile from stacks (root first) and, per sample, which stack and how many µs it took. */
function profile(stacks: CallFrame[][], samples: [stack: number, us: number][]): Profile {
  const nodes: { id: number; callFrame: CallFrame; children: number[] }[] = [
    { id: 1, callFrame: frame('(root)'), children: [] },
  ];
  const leafOf = stacks.map((stack) => {
    let at = nodes[0]!;
    for (const f of stack) {
      const known = at.children.map((c) => nodes[c - 1]!).find((n) => n.callFrame === f);
      if (known) at = known;
      else {
        const n = { id: nodes.length + 1, callFrame: f, children: [] };
        nodes.push(n);
        at.children.push(n.id);
        at = n;
      }
    }
    return at.id;
  });
  const total = samples.reduce((s, [, us]) => s + us, 0);
  return {
    nodes,
    startTime: 0,
    endTime: total,
    samples: samples.map(([k]) => leafOf[k]!),
    timeDeltas: samples.map(([, us]) => us),
  };
}

const onData = frame('onData', `${D}ingest/mqtt/connection.js`);
const parserParse = frame('parse', 'file:///repo/node_modules/mqtt-packet/parser.js');
const onPublish = frame('onPublish', `${D}ingest/mqtt/publish.js`);
const accept = frame('accept', `${D}ingest/intake.js`);
const decode = frame('decodeTelemetry', `${D}decoder.js`);
const concat = frame('concat', 'node:buffer');
const flushAcks = frame('flushAcks', `${D}ingest/mqtt/connection.js`);
const writeBuffer = frame('writeBuffer');
const onConnect = frame('onConnect', `${D}ingest/mqtt/connect.js`);
const gc = frame('(garbage collector)');
const idle = frame('(idle)');
const timers = frame('processTimers', 'node:internal/timers');

describe('bench › profile-summary', () => {
  it('charges a sample to the nearest frame on its stack that names a stage', () => {
    expect(stageOfFrame(concat)).toBeUndefined(); // node's own: its caller decides
    expect(stageOfFrame(parserParse)).toBe('parse');
    expect(stageOfFrame(flushAcks)).toBe('PUBACK write');
    expect(stageOfFrame(onData)).toBe('parse');
    expect(stageOfFrame(frame('evaluate', `${D}policy/evaluate.js`))).toBe('policy');
    expect(stageOfFrame(frame('object', `${D}json-strict.js`))).toBe('decode');
    expect(stageOfFrame(frame('commitIngest', `${D}store/sqlite/ingest-writer.js`))).toBe('store/writer');
    const p = profile(
      [
        [onData, parserParse, onPublish, accept, decode, concat], // Buffer.concat in the decoder
        [onData, parserParse, concat], // Buffer.concat in the parser
        [flushAcks, writeBuffer], // the socket write of PUBACKs
        [onData, parserParse, onPublish, accept], // the intake itself
        [gc],
        [timers], // no stage anywhere on the stack
        [idle],
      ],
      [
        [0, 400],
        [1, 200],
        [2, 100],
        [3, 50],
        [4, 300],
        [5, 25],
        [6, 1000],
      ],
    );
    const s = summarise(p);
    expect(Object.fromEntries([...s.byStage].filter(([, us]) => us > 0))).toEqual({
      decode: 400,
      parse: 200,
      'PUBACK write': 100,
      intake: 50,
      GC: 300,
      other: 25,
    });
    expect(s.busyUs).toBe(1075);
    expect(s.windowUs).toBe(2075); // idle counts in the window, not in the busy time
    expect(s.thread).toBe('main');
  });

  it('reads the seconds with the most PUBLISH handling, not the busier connects before them', () => {
    const connect = [onData, parserParse, onConnect];
    const publish = [onData, parserParse, onPublish, accept, decode];
    // 3 s of connects at full CPU, then 3 s of publishing at half CPU (idle between), 1 s per sample.
    const p = profile(
      [connect, publish, [idle]],
      [
        [0, 1e6],
        [0, 1e6],
        [0, 1e6],
        [1, 5e5],
        [2, 5e5],
        [1, 5e5],
        [2, 5e5],
        [1, 5e5],
        [2, 5e5],
      ],
    );
    const [from, to] = busiestWindow(p, 3);
    expect(from).toBeGreaterThanOrEqual(3e6);
    const s = summarise(p, [from, to]);
    expect(s.byStage.get('auth')).toBe(0); // no connect in the window read
    expect(s.byStage.get('decode')).toBeGreaterThan(0);
  });
});

describe('bench › profile-summary › the egress stages (--stages egress)', () => {
  const used = (p: Profile) =>
    Object.fromEntries([...summarise(p, undefined, EGRESS).byStage].filter(([, us]) => us > 0));
  const digest = frame('digest', 'node:internal/crypto/hash');
  const tx = frame('sqliteTransaction', 'file:///repo/node_modules/better-sqlite3/lib/methods/transaction.js');
  const held = frame('', `${D}store/sqlite/ingest-tx.js`); // the statement wrapper: passed over

  it('charges a hash to the code that called it: signing under the signer, hashing under the leaf hash', () => {
    const post = frame('postNow', `${D}egress/deliver.js`);
    const sign = frame('signBody', `${D}egress/sign.js`);
    const leaf = frame('entryLeafHash', `${D}audit/leaf.js`);
    const undici = frame('request', 'file:///repo/node_modules/undici/lib/api/api-request.js');
    const p = profile(
      [[post, sign, digest], [leaf, digest], [post, undici], [gc]],
      [
        [0, 3_000],
        [1, 2_000],
        [2, 1_000],
        [3, 500],
      ],
    );
    expect(used(p)).toEqual({
      'signing (HMAC of each POST)': 3_000,
      'Merkle hashing (leaf, nodes)': 2_000,
      'HTTP client (undici, sockets)': 1_000,
      GC: 500,
    });
  });

  it('passes over the statement wrappers, and counts BEGIN/COMMIT only as the transaction’s own time', () => {
    const append = frame('append', `${D}store/egress-log/sqlite.js`);
    const markDelivered = frame('markDelivered', `${D}store/outbox/sqlite.js`);
    const p = profile(
      [[tx, append, held], [tx, markDelivered, held], [tx], [idle]],
      [
        [0, 4_000],
        [1, 2_000],
        [2, 5_000],
        [3, 7_000],
      ],
    );
    expect(used(p)).toEqual({
      'egress-log staging (entry row, leaf row, tree nodes)': 4_000,
      'outbox settles (status, settled check)': 2_000,
      'SQLite BEGIN/COMMIT (fsync)': 5_000,
    });
  });
});
