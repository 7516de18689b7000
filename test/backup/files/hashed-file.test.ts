import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { HASH_READ_BYTES, hashFile } from '../../../src/backup/files/hashed-file.ts';

describe('hashFile: a file re-hashed through two reused buffers', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  // Around the read size: empty, one byte, a read exactly, a read and a byte, several reads and a part.
  const sizes = [
    0,
    1,
    HASH_READ_BYTES - 1,
    HASH_READ_BYTES,
    HASH_READ_BYTES + 1,
    3 * HASH_READ_BYTES + 12_345,
  ];
  for (const size of sizes)
    test(`${size} bytes: the size and sha256 of the whole content`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'pgbackman-hashfile-test-'));
      dirs.push(dir);
      const content = randomBytes(size);
      const path = join(dir, 'database.dump');
      await writeFile(path, content);
      assert.deepEqual(await hashFile(path), {
        bytes: size,
        sha256: createHash('sha256').update(content).digest('hex'),
      });
    });

  test('a file that is not there is an error, not an empty hash', async () => {
    await assert.rejects(hashFile(join(tmpdir(), 'pgbackman-no-such-file-', String(Date.now()))), {
      code: 'ENOENT',
    });
  });
});
