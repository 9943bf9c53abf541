import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfig } from '../../src/config/load.js';
import { buildApp } from '../../src/app.js';
import { createLogger } from '../../src/log.js';
import { ShekaraError } from '../../src/errors.js';

const parse = (text: string, env: Record<string, string> = {}) =>
  parseConfig(text, 'shekara.yaml', '/etc/shekara', { env });
const problems = (text: string, env: Record<string, string> = {}): string[] => {
  try {
    parse(text, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ShekaraError);
    expect((err as ShekaraError).code).toBe('SHK_CONFIG_INVALID');
    return (err as ShekaraError).details.problems as string[];
  }
  throw new Error('config was accepted');
};

describe('config', () => {
  it('fills every default when the file is empty', () => {
    const cfg = parse('');
    expect(cfg.mqtt.port).toBe(1883);
    expect(cfg.http.port).toBe(8080);
    expect(cfg.limits.maxPacketBytes).toBe(65_536);
    expect(cfg.oems).toEqual([]);
    expect(cfg.dataDir).toBe('/etc/shekara/data');
  });

  it('is frozen once loaded', () => {
    const cfg = parse('mqtt: { port: 1900 }');
    expect(() => {
      (cfg.mqtt as { port: number }).port = 1;
    }).toThrow();
  });

  it('names an unknown key with its line and path', () => {
    expect(problems('mqtt:\n  host: 127.0.0.1\n  prot: 1884\n')).toEqual(['shekara.yaml:3 mqtt.prot: unknown key']);
  });

  it('names a bad value with its line, path and reason', () => {
    expect(problems('http:\n  port: 70000\n')).toEqual(['shekara.yaml:2 http.port: must be <= 65535']);
    expect(problems('limits:\n  maxPacketBytes: lots\n')[0]).toMatch(
      /^shekara.yaml:2 limits.maxPacketBytes: must be integer/,
    );
  });

  it('names a bad OEM entry inside a list', () => {
    const p = problems('oems:\n  - id: Bad OEM\n    endpoint: ftp://x\n    policyFile: p.yaml\n');
    expect(p).toContain('shekara.yaml:2 oems.0.id: must match pattern "^[a-z0-9][a-z0-9-]{0,62}$"');
    expect(p).toContain('shekara.yaml:3 oems.0.endpoint: must match pattern "^https?://"');
  });

  it('reports a YAML syntax error with its line', () => {
    expect(() => parse('mqtt:\n  port: [1\n')).toThrow(/shekara.yaml:\d+:\d+: YAML syntax/);
  });

  it('rejects the same port for MQTT and HTTP', () => {
    expect(problems('mqtt: { port: 9000 }\nhttp: { port: 9000 }\n')[0]).toMatch(/http.port: 9000 is also mqtt.port/);
  });

  it('takes ports from SHEKARA_MQTT_PORT and SHEKARA_HTTP_PORT over the file', () => {
    const cfg = parse('mqtt: { port: 1900 }', { SHEKARA_MQTT_PORT: '2883', SHEKARA_HTTP_PORT: '9080' });
    expect(cfg.mqtt.port).toBe(2883);
    expect(cfg.http.port).toBe(9080);
  });

  it('names the environment variable when its value is not a port', () => {
    expect(() => parse('', { SHEKARA_MQTT_PORT: 'abc' })).toThrow(/SHEKARA_MQTT_PORT=abc: must be a port number/);
  });

  it('says which file it could not read', () => {
    expect(() => loadConfigFile('/nonexistent/shekara.yaml')).toThrow(
      /cannot read config file \/nonexistent\/shekara.yaml/,
    );
  });

  it('loads the example config shipped in examples/', () => {
    const cfg = loadConfigFile('examples/shekara.yaml', { env: {} });
    expect(cfg.oems.map((o) => o.id)).toEqual(['demo-oem']);
  });

  it('fails to start with SHK_PORT_IN_USE naming a port that is already taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    const cfg = parseConfig(
      `dataDir: /tmp\nstore: { file: ':memory:' }\nmqtt: { host: 127.0.0.1, port: ${port} }\nhttp: { host: 127.0.0.1, port: 0 }\n`,
      't.yaml',
      '/tmp',
      { env: {} },
    );
    const err = await buildApp(cfg, { log: createLogger('silent') }).then(
      () => undefined,
      (e: unknown) => e,
    );
    blocker.close();
    expect(err).toBeInstanceOf(ShekaraError);
    expect((err as ShekaraError).code).toBe('SHK_PORT_IN_USE');
    expect((err as Error).message).toContain(`MQTT port ${port}`);
    expect((err as Error).message).toContain('SHEKARA_MQTT_PORT');
  });

  describe('store', () => {
    it('is SQLite unless told otherwise, and without a kind in the file', () => {
      expect(parse('').store).toEqual({ kind: 'sqlite', file: 'shekara.db' });
      expect(parse('store: { file: x.db }').store).toEqual({ kind: 'sqlite', file: 'x.db' });
    });

    it('fills the PostgreSQL defaults when the kind is postgres', () => {
      expect(parse('store: { kind: postgres, url: "postgres://shekara@db.local:5432/shekara" }').store).toEqual({
        kind: 'postgres',
        url: 'postgres://shekara@db.local:5432/shekara',
        schema: 'public',
        poolSize: 10,
      });
    });

    it('takes the URL from SHEKARA_STORE_URL, which implies postgres', () => {
      const cfg = parse('store: { schema: gw1 }', { SHEKARA_STORE_URL: 'postgres://u:s3cret@10.0.0.5:6432/shk' });
      expect(cfg.store).toEqual({
        kind: 'postgres',
        url: 'postgres://u:s3cret@10.0.0.5:6432/shk',
        schema: 'gw1',
        poolSize: 10,
      });
    });

    it('names the key that does not belong to the kind, and the kind it does not know', () => {
      expect(problems('store: { kind: postgres, url: "postgres://h/db", file: x.db }')).toEqual([
        'shekara.yaml:1 store.file: unknown key',
      ]);
      expect(problems('store: { kind: mysql }')).toEqual([
        'shekara.yaml:1 store.kind: "mysql" is not one of the accepted kinds',
      ]);
      expect(problems('store: { kind: postgres }')[0]).toMatch(/store: must have required property 'url'/);
      expect(problems('store: { kind: sqlite }', { SHEKARA_STORE_URL: 'postgres://h/db' })[0]).toMatch(
        /store.url: a URL is given .* store.kind is "sqlite"/,
      );
    });

    it('refuses a URL it cannot parse without repeating it (it may hold a password)', () => {
      const p = problems('store: { kind: postgres, url: "postgres://u:hunter2@[bad/db" }');
      expect(p).toEqual(['store.url: not a valid URL (postgres://user@host:5432/database)']);
      expect(p.join()).not.toContain('hunter2');
    });
  });

  it('fills the retention periods and refuses a period under a day', () => {
    expect(parse('').retention).toEqual({
      rawRecordsDays: 90,
      routePointsDays: 90,
      accountDataDays: 365,
      sweepIntervalMinutes: 60,
    });
    expect(problems('retention: { routePointsDays: 0 }')).toEqual([
      'shekara.yaml:1 retention.routePointsDays: must be >= 1',
    ]);
  });

  describe('egress backlog warning and ingest pushback', () => {
    it('warns of an old backlog before the age bound pushes ingest back, by default', () => {
      const { egress } = parse('');
      expect(egress.backlog.warnAgeSeconds).toBeLessThan(egress.maxBacklogAgeSeconds);
    });

    it('refuses a warning age at or above the pushback age, and takes any with the age bound off', () => {
      expect(problems('egress: { maxBacklogAgeSeconds: 120, backlog: { warnAgeSeconds: 300 } }')).toEqual([
        'egress.backlog.warnAgeSeconds: 300 must be below egress.maxBacklogAgeSeconds (120): the warning comes before ingest is pushed back',
      ]);
      expect(problems('egress: { maxBacklogAgeSeconds: 60, backlog: { warnAgeSeconds: 60 } }')).toHaveLength(1);
      expect(problems('egress: { maxBacklogAgeSeconds: 60 }')[0]).toMatch(/warnAgeSeconds: 90 must be below/);
      expect(parse('egress: { maxBacklogAgeSeconds: 0, backlog: { warnAgeSeconds: 300 } }').egress.backlog).toEqual(
        expect.objectContaining({ warnAgeSeconds: 300 }),
      );
    });

    it('keeps a held car connected while ingest is pushed back, unless told a bound', () => {
      expect(parse('').limits.pushbackMaxWaitSeconds).toBe(0);
      expect(parse('limits: { pushbackMaxWaitSeconds: 600 }').limits.pushbackMaxWaitSeconds).toBe(600);
      expect(problems('limits: { pushbackMaxWaitSeconds: -1 }')).toEqual([
        'shekara.yaml:1 limits.pushbackMaxWaitSeconds: must be >= 0',
      ]);
    });
  });
});
