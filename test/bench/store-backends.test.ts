/**
 * `bench/store-backends.ts --instances` runs each PostgreSQL instance as a process of its own and
 * waits for all of them to exit: a tiny run must finish, with every instance's share printed and
 * one gap-free log. (Its figures are the bench's business; here only that it ends and is sound.)
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('bench/store-backends.ts --instances', () => {
  it('settles on 1 and 2 instance processes, each exits, and the log is consecutive', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/store-backends.ts', '64', '--instances', '1,2'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, err).toBe(0);
    const lines = out.split('\n').filter((l) => l.startsWith('PostgreSQL, '));
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).toContain('leaf indexes consecutive: true');
    // Both instances of the second run settled a share: the shares add up to all 64.
    const shares = /shares ([\d + ]+);/.exec(lines[1]!)![1]!.split(' + ').map(Number);
    expect(shares).toHaveLength(2);
    expect(shares.reduce((a, b) => a + b, 0)).toBe(64);
  }, 300_000);
});
