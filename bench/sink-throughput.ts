// `node --import tsx bench/sink-throughput.ts FILE [SINK_MODULE]`: sends FILE through `cat` into the hashed
// sink (src/backup/files/hashed-sink.ts, or another version of it to compare) and prints the bytes, the
// sha256 and the time. Time it whole with `/usr/bin/time -v`, against `cat FILE > OUT` as the floor.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [file, module = 'src/backup/files/hashed-sink.ts'] = process.argv.slice(2);
if (file === undefined) throw new Error('usage: sink-throughput.ts FILE [SINK_MODULE]');
const { openHashedSink } = (await import(pathToFileURL(resolve(module)).href)) as {
  openHashedSink(path: string): Promise<{
    stdout: import('node:net').Socket;
    done: Promise<{ bytes: number; sha256: string }>;
    commit?: () => Promise<void>;
  }>;
};
const dir = await mkdtemp(join(tmpdir(), 'pgbackman-sink-bench-'));
try {
  const started = process.hrtime.bigint();
  const sink = await openHashedSink(join(dir, 'out'));
  const child = spawn('cat', [file], { stdio: ['ignore', sink.stdout, 'inherit'] });
  sink.stdout.destroy(); // the child has its own copy
  await once(child, 'exit');
  const written = await sink.done;
  await sink.commit?.();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(`${written.bytes} bytes, sha256 ${written.sha256}, ${ms.toFixed(0)} ms\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
