/**
 * What a new user trips over first: the policy example in docs/policy.md is valid as printed,
 * and the start banner suggests an `oem-sink` on the port the configured OEM endpoint uses.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/policy/load.js';
import { sinkHint } from '../../src/cli/start.js';

describe('frictions', () => {
  it("docs/policy.md's example policy is accepted by the validator", () => {
    const doc = readFileSync(new URL('../../docs/policy.md', import.meta.url), 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(doc)![1]!;
    expect(example).toContain('retention:');
    expect(() => parsePolicy(example, 'docs/policy.md')).not.toThrow();
  });

  it('the banner suggests oem-sink on the configured endpoint’s port, and none for a remote OEM', () => {
    expect(sinkHint(['http://127.0.0.1:21090/oem/telemetry'])).toEqual(['  npx shekara oem-sink --port 21090']);
    expect(sinkHint(['https://telemetry.acme.example/in', 'http://localhost:9191/'])).toEqual([
      '  npx shekara oem-sink --port 9191',
    ]);
    expect(sinkHint(['https://telemetry.acme.example/in'])).toEqual([]);
  });
});
