import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { discoverPgBinDirs } from '../backup/dump/pg-bin-dirs.ts';
import { PgbackmanError } from '../errors.ts';
import { freePort } from '../system/free-port.ts';

const run = promisify(execFile);

/** A PostgreSQL cluster of the demo's own in a temp directory, on a free port of 127.0.0.1. */
export interface ThrowawayNode {
  readonly host: string;
  readonly port: number;
  readonly binDir: string;
  stop(): Promise<void>;
}

/** initdb + pg_ctl start with the newest server binaries found; as root, the cluster runs as `postgres`. */
export async function startThrowawayNode(): Promise<ThrowawayNode> {
  const majors = [...discoverPgBinDirs().entries()].sort(([a], [b]) => b - a);
  const found = majors.find(([, dir]) => existsTool(join(dir, 'initdb')));
  if (found === undefined)
    throw new PgbackmanError(
      'NOT_FOUND',
      'the demo needs PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/<major>/bin: install the postgresql package',
    );
  const binDir = found[1];
  const dir = await mkdtemp(join(tmpdir(), 'pgbackman-demo-node-'));
  // PostgreSQL refuses to run as root: the distro's postgres user owns the cluster.
  const prefix = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  if (prefix.length > 0) {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    await chown(dir, uid, gid);
  }
  const exec = (tool: string, args: string[]) => {
    const [cmd, ...rest] = [...prefix, join(binDir, tool), ...args];
    return run(cmd as string, rest, { timeout: 60_000 });
  };
  const data = join(dir, 'data');
  await exec('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    '-A',
    'trust',
    '--no-sync',
    '-E',
    'UTF8',
    '--locale=C',
  ]);
  const port = await freePort();
  const settings = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  await exec('pg_ctl', [
    '-D',
    data,
    '-w',
    '-t',
    '30',
    '-l',
    join(dir, 'server.log'),
    '-o',
    settings,
    'start',
  ]);
  return {
    host: '127.0.0.1',
    port,
    binDir,
    async stop() {
      await exec('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function existsTool(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() === true;
}
