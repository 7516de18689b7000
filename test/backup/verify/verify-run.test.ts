import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { verifyRun } from '../../../src/backup/verify/verify-run.ts';
import type { BackupRun } from '../../../src/catalogue/backup-runs.ts';

const dir = mkdtempSync(join(tmpdir(), 'pgbackman-verify-run-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** A SUCCEEDED run of `file` in `dir` whose recorded checksums are `sums`. */
function runOf(file: string, sums: Record<string, string>): BackupRun {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    status: 'SUCCEEDED',
    dumpPath: join(dir, file),
    sha256: sums,
  } as unknown as BackupRun;
}

describe('verifyRun: what is read beyond the checksums', () => {
  test('an archive whose checksum matches but that pg_restore cannot read is CORRUPT, with its words', async () => {
    const text = 'not an archive at all\n';
    writeFileSync(join(dir, 'garbage.dump'), text);
    const v = await verifyRun(runOf('garbage.dump', { 'garbage.dump': sha(text) }));
    assert.equal(v.status, 'CORRUPT');
    assert.match(
      v.error ?? '',
      /^pg_restore cannot read .*garbage\.dump: .*input file does not appear to be a valid archive/,
    );
  });

  test('a checksum that differs is reported, not what pg_restore thinks of the file', async () => {
    writeFileSync(join(dir, 'changed.dump'), 'changed\n');
    const v = await verifyRun(runOf('changed.dump', { 'changed.dump': sha('original\n') }));
    assert.equal(v.status, 'CORRUPT');
    assert.match(v.error ?? '', /changed\.dump: sha256 [0-9a-f]{64} differs from the [0-9a-f]{64} recorded/);
  });

  test('a plain dump without pg_dump header is CORRUPT', async () => {
    writeFileSync(join(dir, 'other.sql'), 'select 1;\n');
    const v = await verifyRun(runOf('other.sql', {}));
    assert.deepEqual(
      [v.status, v.error],
      ['CORRUPT', `${join(dir, 'other.sql')} does not start with a PostgreSQL dump header`],
    );
  });

  test('a plain dump larger than the longest string Node can hold is read only at its head', async () => {
    const path = join(dir, 'large.sql');
    writeFileSync(path, '--\n-- PostgreSQL database dump\n--\n');
    truncateSync(path, 600 * 1024 ** 2); // sparse: no disk used; reading it whole as a string would throw
    const v = await verifyRun(runOf('large.sql', {}));
    assert.deepEqual([v.status, v.error], ['OK', null]);
  });
});
