/**
 * The GB/T 32960 listener is off by default and deny by default: enabling it needs a way to
 * bind a connection to its VIN (a vehicle CA for TLS, allowed networks for plain TCP).
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';

const parse = (gbt: string) => parseConfig(`gbt32960:\n${gbt}`, 'shekara.yaml', '/etc/shekara', { env: {} });
const problems = (gbt: string): string[] => {
  try {
    parse(gbt);
    return [];
  } catch (err) {
    return (err as { details?: { problems?: string[] } }).details?.problems ?? [String(err)];
  }
};

describe('config › gbt32960', () => {
  it('is off by default, with both listeners off', () => {
    const cfg = parseConfig('{}', 'shekara.yaml', '/etc/shekara', { env: {} });
    expect(cfg.gbt32960).toMatchObject({
      enabled: false,
      tcp: { enabled: false, allowFrom: [] },
      tls: { enabled: false },
    });
  });

  it('refuses plain TCP without allowFrom, and an allowFrom entry that is not an address or CIDR block', () => {
    expect(problems('  enabled: true\n  tcp: { enabled: true }')).toEqual([
      expect.stringMatching(/^gbt32960\.tcp: enabled needs allowFrom/),
    ]);
    expect(
      problems('  enabled: true\n  tcp: { enabled: true, allowFrom: [10.1.0.0/16, "fd00::/8", 300.1.1.1] }'),
    ).toEqual(['gbt32960.tcp.allowFrom.2: not an IP address or CIDR block']);
  });

  it('refuses TLS without a vehicle CA, and enabled with no listener', () => {
    expect(problems('  enabled: true\n  tls: { enabled: true, certFile: c.pem, keyFile: k.pem }')).toEqual([
      expect.stringMatching(/^gbt32960\.tls: enabled needs certFile, keyFile and clientCaFile/),
    ]);
    expect(problems('  enabled: true')).toEqual(['gbt32960: enabled needs tls.enabled or tcp.enabled']);
  });

  it('resolves certificate paths against the config folder', () => {
    const cfg = parse(
      '  enabled: true\n  tls: { enabled: true, certFile: c.pem, keyFile: k.pem, clientCaFile: ca.pem }',
    );
    expect(cfg.gbt32960.tls.clientCaFile).toBe('/etc/shekara/ca.pem');
  });
});
