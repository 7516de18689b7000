import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { spawnTool } from '../../../src/backup/dump/spawn-tool.ts';
import { type ByteTarget, fileTarget, openHashedSink } from '../../../src/backup/files/hashed-sink.ts';

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
    await sink.commit();
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

  // The seam an encryption stage or an upload will use: a target that transforms the bytes on their way.
  const xorTarget = async (path: string, events: string[]): Promise<ByteTarget> => {
    const file = await fileTarget(path);
    return {
      async write(data) {
        events.push('write');
        await file.write(Uint8Array.from(data, (b) => b ^ 0x5a));
      },
      async finish() {
        events.push('finish');
        await file.finish();
      },
      async abort() {
        events.push('abort');
        await file.abort();
      },
    };
  };

  test("a stage between the tool and the file sees every byte in order; the hash is of the tool's bytes", async () => {
    const dir = await scratch();
    const events: string[] = [];
    const path = join(dir, 'database.dump.x');
    const sink = await openHashedSink(await xorTarget(path, events));
    const tool = spawnTool(
      process.execPath,
      ['-e', writer(5_000_000)],
      process.env,
      join(dir, 'log'),
      undefined,
      sink.stdout,
    );
    await tool.done;
    const written = await sink.done;
    await sink.commit();
    const stored = readFileSync(path);
    const plain = Buffer.from(stored.map((b) => b ^ 0x5a));
    assert.equal(plain.length, 5_000_000);
    assert.equal(plain.subarray(0, 10).toString(), 'pgbackman-');
    assert.equal(written.sha256, createHash('sha256').update(plain).digest('hex'));
    assert.equal(events.at(-1), 'finish');
    assert.ok(!events.includes('abort'));
  });

  test('when the tool fails, the stage is aborted, never finished', async () => {
    const dir = await scratch();
    const events: string[] = [];
    const sink = await openHashedSink(await xorTarget(join(dir, 'database.dump.x'), events));
    const tool = spawnTool(
      process.execPath,
      ['-e', writer(3_000_000, 3)],
      process.env,
      join(dir, 'log'),
      undefined,
      sink.stdout,
    );
    await assert.rejects(tool.done, /exited with status 3/);
    await sink.abort();
    assert.equal(events.at(-1), 'abort');
    assert.ok(!events.includes('finish'));
  });
});
