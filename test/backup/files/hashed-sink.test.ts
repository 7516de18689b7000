import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { spawnTool } from '../../../src/backup/dump/spawn-tool.ts';
import { openHashedSink } from '../../../src/backup/files/hashed-sink.ts';

// A tool that writes `n` bytes of a fixed pattern in uneven pieces, then exits with `code`.
const writer = (n: number, code = 0) =>
  `const b = Buffer.alloc(${n}, 'pgbackman-'); let i = 0;
   const next = () => { while (i < b.length) { const j = Math.min(b.length, i + 1 + ((i * 7919) % 300000));
     const ok = process.stdout.write(b.subarray(i, j)); i = j; if (!ok) return process.stdout.once('drain', next); }
     process.stdout.end(() => process.exit(${code})); };
   next();`;

describe("a tool's output hashed into a file through one reused buffer", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const scratch = async () => {
    const d = await mkdtemp(join(tmpdir(), 'pgbackman-sink-test-'));
    dirs.push(d);
    return d;
  };

  test('every byte reaches the file, and the hash is that of the file', async () => {
    const dir = await scratch();
    const target = join(dir, 'database.dump');
    const sink = await openHashedSink(target);
    const tool = spawnTool(
      process.execPath,
      ['-e', writer(12_345_678)],
      process.env,
      join(dir, 'log'),
      undefined,
      sink.stdout,
    );
    await tool.done;
    const written = await sink.done;
    const data = readFileSync(target);
    assert.equal(written.bytes, 12_345_678);
    assert.equal(data.length, 12_345_678);
    assert.equal(written.sha256, createHash('sha256').update(data).digest('hex'));
    assert.equal(data.subarray(0, 10).toString(), 'pgbackman-');
  });

  test('a tool that fails is reported as failed, and the sink gives up cleanly', async () => {
    const dir = await scratch();
    const sink = await openHashedSink(join(dir, 'database.dump'));
    const tool = spawnTool(
      process.execPath,
      ['-e', writer(1_000_000, 3)],
      process.env,
      join(dir, 'log'),
      undefined,
      sink.stdout,
    );
    await assert.rejects(tool.done, /exited with status 3/);
    await sink.abort();
  });

  test('a tool that cannot be started is reported, and nothing is left holding the process open', async () => {
    const dir = await scratch();
    const sink = await openHashedSink(join(dir, 'database.dump'));
    const tool = spawnTool(
      join(dir, 'no-such-pg_dump'),
      [],
      process.env,
      join(dir, 'log'),
      undefined,
      sink.stdout,
    );
    await assert.rejects(tool.done, /cannot run .*no-such-pg_dump/);
    await sink.abort();
    assert.equal(sink.stdout.destroyed, true);
  });
});
