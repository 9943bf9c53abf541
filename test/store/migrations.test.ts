/**
 * The migration runners on every backend: both lists carry the same ids, and a store written by a
 * newer Shekara (a migration this build does not know) is refused with a code, not opened.
 */
import { describe, expect, it } from 'vitest';
import { isShekaraError } from '../../src/errors.js';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/index.js';
import { PG_MIGRATIONS } from '../../src/store/pg/index.js';
import { backends, useBackend } from './backends.js';

describe('store migrations', () => {
  it('name each id once; every SQLite migration has its PostgreSQL twin under the same id', () => {
    // PostgreSQL has a few of its own (the staged egress log, indexes for its planner).
    const ids = (ms: readonly { id: string }[]) => ms.map((m) => m.id);
    for (const list of [SQLITE_MIGRATIONS, PG_MIGRATIONS]) expect(new Set(ids(list)).size).toBe(list.length);
    expect(ids(SQLITE_MIGRATIONS).filter((id) => !ids(PG_MIGRATIONS).includes(id))).toEqual([]);
  });
});

describe.each(backends())('store migrations: $name', (backend) => {
  const { fresh, second, opened } = useBackend(backend);

  it('refuse a store written by a newer Shekara with SHK_STORE_NEWER, naming what they do not know', async () => {
    await fresh();
    await opened().sql('INSERT INTO schema_migrations (id, applied_at) VALUES ($1, $2)', ['9999-from-the-future', 0]);
    const refusal = await second().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isShekaraError(refusal, 'SHK_STORE_NEWER')).toBe(true);
    expect((refusal as Error).message).toContain('9999-from-the-future');
  });

  it('open a store they wrote themselves again, applying nothing twice', async () => {
    await fresh();
    const applied = async () =>
      (await opened().sql('SELECT id, applied_at FROM schema_migrations ORDER BY id')).map((r) => JSON.stringify(r));
    const before = await applied();
    await expect(second()).resolves.toBeDefined();
    expect(await applied()).toEqual(before);
  });
});
