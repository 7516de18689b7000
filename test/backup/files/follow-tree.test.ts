import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TreeFollower } from '../../../src/backup/files/follow-tree.ts';

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('following a directory another program writes (directory-format dumps)', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const scratch = async () => {
    const d = await mkdtemp(join(tmpdir(), 'pgbackman-follow-'));
    dirs.push(d);
    return join(d, 'dump.dir');
  };

  test('files created and appended to while followed hash as a full read of them does', async () => {
    const dir = await scratch();
    const follower = new TreeFollower(dir);
    await sleep(30); // the directory does not exist yet, as when pg_dump has not started
    await mkdir(dir);
    for (let round = 0; round < 6; round++) {
      appendFileSync(join(dir, '3001.dat.gz'), randomBytes(700_000 + round));
      if (round >= 2) appendFileSync(join(dir, `${3002 + (round % 2)}.dat.gz`), randomBytes(1_500_000));
      await sleep(15);
    }
    writeFileSync(join(dir, 'toc.dat'), randomBytes(4096)); // written last, as pg_dump does
    const tree = await follower.finish();
    const names = ['3001.dat.gz', '3002.dat.gz', '3003.dat.gz', 'toc.dat'];
    assert.deepEqual(Object.keys(tree.files), names);
    for (const name of names) assert.equal(tree.files[name], sha(join(dir, name)), name);
    const total = names.reduce((n, name) => n + readFileSync(join(dir, name)).length, 0);
    assert.equal(tree.bytes, total);
  });

  test('a file rewritten after it was read is refused, not given a wrong checksum', async () => {
    const dir = await scratch();
    await mkdir(dir);
    writeFileSync(join(dir, 'toc.dat'), randomBytes(100_000));
    const follower = new TreeFollower(dir);
    await sleep(60);
    writeFileSync(join(dir, 'toc.dat'), randomBytes(50_000)); // truncated and shorter: not an append
    await assert.rejects(follower.finish(), /toc\.dat changed after it was read/);
  });

  test('thousands of files (one per table) never hold thousands of descriptors open', async () => {
    const dir = await scratch();
    const openFds = () => readdirSync('/proc/self/fd').length;
    const baseline = openFds();
    const follower = new TreeFollower(dir);
    await mkdir(dir);
    let most = 0;
    for (let i = 0; i < 600; i++) {
      writeFileSync(join(dir, `${4000 + i}.dat.gz`), randomBytes(1000));
      if (i % 50 === 0) await sleep(80); // the follower sees the files a batch at a time, as pg_dump writes them
      most = Math.max(most, openFds() - baseline);
    }
    const tree = await follower.finish();
    assert.equal(Object.keys(tree.files).length, 600);
    assert.equal(tree.files['4599.dat.gz'], sha(join(dir, '4599.dat.gz')));
    assert.ok(most <= 40, `at most 40 more descriptors open while following, saw ${most}`);
  });
});
