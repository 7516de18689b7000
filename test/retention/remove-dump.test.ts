import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { dumpDirOf } from '../../src/retention/remove-dump.ts';

const base = mkdtempSync(join(tmpdir(), 'pgbackman-remove-'));
after(() => rmSync(base, { recursive: true, force: true }));

test('a dump directory may be deleted only under the root, as a real directory carrying the run id', () => {
  const id = '1234abcd-0000-4000-8000-000000000000';
  const root = join(base, 'root');
  const dir = (parent: string, name = `20261201T020000Z-FULL-shop-1234abcd`) => join(parent, name);
  const good = dir(join(root, 'n1', 'shop'));
  mkdirSync(good, { recursive: true });
  const outside = dir(join(base, 'elsewhere'));
  mkdirSync(outside, { recursive: true });
  const linkedParent = join(root, 'n1', 'linked');
  symlinkSync(join(base, 'elsewhere'), linkedParent);
  const refused = (dumpPath: string) => {
    try {
      dumpDirOf({ id, dumpPath }, root);
      return 'allowed';
    } catch (err) {
      return (err as Error).message.replace(/^not deleting .*?: /, '');
    }
  };
  assert.equal(dumpDirOf({ id, dumpPath: join(good, 'dump.custom') }, root), good);
  assert.equal(dumpDirOf({ id, dumpPath: null }, root), null, 'a failed run has no files');
  assert.equal(
    dumpDirOf({ id, dumpPath: join(root, 'n1', 'shop', 'gone-1234abcd', 'x') }, root),
    join(root, 'n1', 'shop', 'gone-1234abcd'),
  );
  assert.match(
    refused(join(root, 'n9', 'unmounted', 'gone-1234abcd', 'x')),
    /neither it nor .*unmounted exists: is the volume under .* mounted\?/,
    'gone with its database directory: not taken as deleted',
  );
  assert.match(refused(join(outside, 'dump.custom')), /resolves outside the server's root directory/);
  assert.match(
    refused(join(linkedParent, '20261201T020000Z-FULL-shop-1234abcd', 'dump.custom')),
    /resolves outside/,
  );
  assert.match(refused('/etc/passwd'), /does not carry the run id/);
  assert.match(refused(join(root, 'n1', 'shop', 'x-ffffffff', 'dump')), /does not carry the run id/);
  assert.match(refused('relative-1234abcd/dump'), /relative path/);
  assert.throws(
    () => dumpDirOf({ id, dumpPath: join(good, 'dump.custom') }, join(base, 'no-root')),
    /the root directory .* does not exist here: sweep on the backup server's host/,
  );
});
