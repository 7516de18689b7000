import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../src/system/free-port.ts';

const run = promisify(execFile);

/** A private PostgreSQL cluster in a temp directory: no Docker, no shared state, removed by `stop()`. */
export interface ThrowawayPostgres {
  readonly url: string;
  readonly port: number;
  readonly binDir: string;
  readonly dir: string;
  /** With `tls`: the self-signed certificate the server presents (for 127.0.0.1 and localhost), its own CA. */
  readonly caFile?: string;
  stop(): Promise<void>;
  /** Stops the server but keeps its data: a catalogue or node that is down, until `resume()`. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** SIGSTOPs the server and every backend: connections hang instead of failing (a host frozen, a cut network). */
  freeze(): Promise<void>;
  /** SIGCONTs them: what was asked while frozen is answered now. */
  thaw(): Promise<void>;
}

/** The newest `/usr/lib/postgresql/<major>/bin` that has initdb (the majors are discovered, not assumed). */
export function findPgBinDir(root = '/usr/lib/postgresql'): string {
  const majors = existsSync(root) ? readdirSync(root).filter((d) => /^\d+$/.test(d)) : [];
  majors.sort((a, b) => Number(b) - Number(a));
  const major = majors.find((m) => existsSync(join(root, m, 'bin', 'initdb')));
  if (major === undefined)
    throw new Error(`no PostgreSQL server binaries under ${root}/*/bin (install the postgresql package)`);
  return join(root, major, 'bin');
}

export interface StartOptions {
  /** Require this password for the postgres user (scram-sha-256) instead of trusting every connection. */
  readonly password?: string;
  /** How pg_hba.conf asks for that password: scram-sha-256 (default) or password (cleartext). */
  readonly auth?: 'scram-sha-256' | 'password';
  /** Serve TLS with a fresh self-signed certificate (see `caFile`). */
  readonly tls?: boolean;
  /** More `-c name=value` server settings (values without spaces). */
  readonly settings?: readonly string[];
}

export async function startThrowawayPostgres(
  label = 'pg',
  options: StartOptions = {},
): Promise<ThrowawayPostgres> {
  const binDir = findPgBinDir();
  const dir = await mkdtemp(join(tmpdir(), `pgbackman-test-${label}-`));
  const dataDir = join(dir, 'data');
  // PostgreSQL refuses to run as root: drop to the distro's postgres user, who must own the directory.
  const asRoot = process.getuid?.() === 0;
  const prefix = asRoot ? ['runuser', '-u', 'postgres', '--'] : [];
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const exec = async (tool: string, args: string[]) => {
    const [cmd, ...rest] = [...prefix, join(binDir, tool), ...args];
    return run(cmd as string, rest, { timeout: 60_000 });
  };
  const auth = ['-A', 'trust'];
  if (options.password !== undefined) {
    const pwfile = join(dir, 'pwfile');
    await writeFile(pwfile, `${options.password}\n`, { mode: 0o644 });
    auth.splice(0, 2, '-A', options.auth ?? 'scram-sha-256', `--pwfile=${pwfile}`);
  }
  const caFile = options.tls ? await selfSignedCertificate(dir, prefix) : undefined;
  const tls =
    caFile === undefined
      ? []
      : ['ssl=on', `ssl_cert_file=${caFile}`, `ssl_key_file=${join(dir, 'server.key')}`];
  const extra = [...tls, ...(options.settings ?? [])].map((setting) => `-c ${setting}`);
  await exec('initdb', ['-D', dataDir, '-U', 'postgres', ...auth, '--no-sync', '-E', 'UTF8', '--locale=C']);
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const options = [
      `-p ${port}`,
      `-k ${dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=100',
      ...extra,
    ].join(' ');
    const start = () =>
      exec('pg_ctl', [
        '-D',
        dataDir,
        '-w',
        '-t',
        '30',
        '-l',
        join(dir, 'server.log'),
        '-o',
        options,
        'start',
      ]);
    try {
      await start();
      const stop = async () => {
        await exec('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
      };
      const pause = async () => {
        await exec('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
      };
      const resume = async () => {
        await start();
      };
      const signalAll = async (signal: 'STOP' | 'CONT') => {
        const postmaster = (await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0] as string;
        // The postmaster first, so no new backend is forked while the others are stopped.
        await run('kill', [`-${signal}`, postmaster]);
        await run('pkill', [`-${signal}`, '-P', postmaster]).catch(() => undefined);
      };
      const freeze = () => signalAll('STOP');
      const thaw = () => signalAll('CONT');
      const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
      return {
        url,
        port,
        binDir,
        dir,
        ...(caFile === undefined ? {} : { caFile }),
        stop,
        pause,
        resume,
        freeze,
        thaw,
      };
    } catch (err) {
      lastError = err; // most likely the port was taken between probing and binding: try another
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`could not start a throwaway PostgreSQL in ${dir}`, { cause: lastError });
}

/** A self-signed server certificate in `dir`, readable by the server's user; returns the certificate's path. */
async function selfSignedCertificate(dir: string, prefix: readonly string[]): Promise<string> {
  const [cmd, ...rest] = [
    ...prefix,
    'openssl',
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout',
    join(dir, 'server.key'),
    '-out',
    join(dir, 'server.crt'),
  ];
  await run(cmd as string, rest, { timeout: 60_000 });
  await chmod(join(dir, 'server.key'), 0o600); // the server refuses a key others can read
  return join(dir, 'server.crt');
}
