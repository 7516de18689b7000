import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { pgDumpVersion } from '../../../src/backup/dump/pg-dump-version.ts';
import { findPgBinDir } from '../../support/throwaway-postgres.ts';

describe("pg_dump's version, for each dump's record", () => {
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  test('the real pg_dump answers its number', async () => {
    assert.match(await pgDumpVersion(join(findPgBinDir(), 'pg_dump')), /^\d+\.\d+/);
  });

  test('asked once per binary, and again when the file is replaced (a package upgrade)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pgbackman-version-'));
    dirs.push(dir);
    const tool = join(dir, 'pg_dump');
    const calls = join(dir, 'calls');
    const write = (v: string) =>
      writeFile(tool, `#!/bin/sh\necho x >> ${calls}\necho "pg_dump (PostgreSQL) ${v}"\n`, { mode: 0o755 });
    await write('15.1');
    assert.equal(await pgDumpVersion(tool), '15.1');
    assert.equal(await pgDumpVersion(tool), '15.1');
    assert.equal(readFileSync(calls, 'utf8'), 'x\n');
    await write('16.10 (Debian)');
    assert.equal(await pgDumpVersion(tool), '16.10 (Debian)');
    assert.equal(readFileSync(calls, 'utf8'), 'x\nx\n');
  });

  test('a binary that failed once is asked again next time, not remembered failing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pgbackman-version-'));
    dirs.push(dir);
    const tool = join(dir, 'pg_dump');
    const broken = join(dir, 'broken');
    await writeFile(broken, '');
    await writeFile(tool, `#!/bin/sh\n[ -e ${broken} ] && exit 3\necho "pg_dump (PostgreSQL) 15.2"\n`, {
      mode: 0o755,
    });
    await assert.rejects(pgDumpVersion(tool));
    await rm(broken);
    assert.equal(await pgDumpVersion(tool), '15.2');
  });
});
