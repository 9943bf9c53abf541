/**
 * Transactions committed to a SQLite file, as SQLite wrote them: the commit frames of the
 * current WAL generation (https://sqlite.org/fileformat2.html#wal_file_format: a frame whose
 * "size of the database after commit" is not 0 ends a transaction; frames of an older generation
 * carry other salts). Each commit is one fsync at synchronous=FULL.
 */
import { readFileSync } from 'node:fs';

export function walCommits(file: string): { salt: string; commits: number } {
  const wal = readFileSync(`${file}-wal`);
  const pageSize = wal.readUInt32BE(8);
  const salt = wal.subarray(16, 24);
  let commits = 0;
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    if (!wal.subarray(at + 8, at + 16).equals(salt)) break;
    if (wal.readUInt32BE(at + 4) !== 0) commits += 1;
  }
  return { salt: salt.toString('hex'), commits };
}
