// Issue 16's contract for storage destinations: an encrypted dump of the incompressible `noise` database to
// the local root and an S3 bucket at once (`pgbackman run`, a BackupServer with a local primary and an s3
// destination, the definition sealed for an age recipient) against a bare `pg_dump -Fc -f` of the same
// database in the same run: ≤ 1.15× its wall time, peak RSS ≤ 100 MiB. The same definition on a server
// without the bucket separates encryption's cost from the upload's. The bucket is s3rver (a real
// S3-compatible server, as the tests use) in a process of its own (bench/s3-server.mjs).
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  statfsSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DB, DumpCluster, exec, NODE, scaleOf, serverAndNode, yamlFile } from './dump-databases.ts';
import {
  type BenchContext,
  type Benchmark,
  type CommandSpec,
  GNU_TIME,
  type Helper,
  type MeasuredGroup,
  measureGroup,
  medianWall,
  processTreeCpuMs,
  stats,
  target,
} from './harness.ts';
import { stopOnSignal } from './server-helpers.ts';

/** "≤ 1.15× wall time" of a bare pg_dump -Fc -f of the same database, in the same run. */
const WALL_RATIO = 1.15;
/** "executor RSS ≤ 100 MB": the largest run's peak RSS. */
const RSS_LIMIT_MIB = 100;
/** Overrides the noise database's rows (the dump bench's NOISE_ROWS, or its --small one): scales the dump. */
const ROWS_ENV = 'PGBACKMAN_BENCH_STORAGE_ROWS';
const AGE = '/usr/bin/age';
const AGE_KEYGEN = '/usr/bin/age-keygen';
const BUCKET = 'dumps';
const PREFIX = 'bench';
/** s3rver's fixed key pair (any other is refused), handed to pgbackman as credentialsFrom.env names. */
const S3_ENV = { PGBACKMAN_SECRET_S3_ID: 'S3RVER', PGBACKMAN_SECRET_S3_KEY: 'S3RVER' } as const;
const SERVER_S3 = 'bench-offsite';
const SERVER_DISK = 'bench-disk';
const DEF_S3 = 'noise-sealed';
const DEF_DISK = 'noise-sealed-disk';
const LABEL = { s3: `run ${DEF_S3}`, disk: `run ${DEF_S3}, disk only`, bare: 'pg_dump noise' } as const;

const MiB = 1024 ** 2;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;
const ms = (v: number) => (Number.isNaN(v) ? '?' : `${Math.round(v)} ms`);
const fmt = (v: number) => v.toLocaleString('en-US');

/** The s3rver process: its port and pid (its CPU time is read from /proc), and how to stop it. */
interface S3Process {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starts bench/s3-server.mjs on DIRECTORY with the bucket; resolves once it listens. */
async function startS3(cwd: string, directory: string): Promise<S3Process> {
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  const child = spawn(process.execPath, ['bench/s3-server.mjs', directory, BUCKET], {
    cwd,
    env,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const stop = async () => {
    if (exited()) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await gone;
  };
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stdout.on('data', (b: Buffer) => {
        text += b.toString('utf8');
        const end = text.indexOf('\n');
        if (end !== -1) resolve(text.slice(0, end));
      });
      child.once('error', reject);
      child.once('exit', (code) =>
        reject(new Error(`bench/s3-server.mjs exited with ${code} before listening`)),
      );
    });
    const { port, pid } = JSON.parse(line) as { port: number; pid: number };
    return { port, pid, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function sha256Of(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(MiB);
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) hash.update(buffer.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** The one run folder under `dir` (`<root>/<node>/noise`), or undefined. */
function onlyFolder(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const found = readdirSync(dir).filter((f) => !f.endsWith('.partial') && !f.startsWith('.'));
  return found.length === 1 ? join(dir, found[0] as string) : undefined;
}

function serverDoc(name: string, root: string, storage: readonly string[]): string {
  return [
    'apiVersion: pgbackman.io/v1',
    'kind: BackupServer',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    '  hostname: localhost',
    `  rootDirectory: ${root}`,
    '  diskReserve: 1GiB',
    ...(storage.length === 0 ? [] : ['  storage:', ...storage.map((s) => `    - ${s}`)]),
  ].join('\n');
}

function definitionDoc(name: string, server: string, recipient: string): string {
  return [
    'apiVersion: pgbackman.io/v1',
    'kind: BackupDefinition',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    `  server: ${server}`,
    `  node: ${NODE}`,
    `  database: ${DB.noise}`,
    '  code: FULL',
    '  format: custom',
    `  encryption: {age: {recipients: ["${recipient}"]}}`,
  ].join('\n');
}

function medianOf(group: MeasuredGroup, label: string, what: 'cpuMs' | 'maxRssKiB' | 'helperCpuMs'): number {
  const m = group.measurements.find((x) => x.spec.label === label);
  if (m === undefined) throw new Error(`no measurement labelled "${label}"`);
  return stats(m[what]).median;
}

function maxOf(group: MeasuredGroup, label: string, what: 'maxRssKiB'): number {
  const m = group.measurements.find((x) => x.spec.label === label);
  if (m === undefined) throw new Error(`no measurement labelled "${label}"`);
  return stats(m[what]).max;
}

/** The noise rows: the dump bench's (or its --small), or PGBACKMAN_BENCH_STORAGE_ROWS. */
function rowsOf(ctx: BenchContext): number {
  const set = process.env[ROWS_ENV];
  if (set === undefined || set === '') return scaleOf(ctx).noiseRows;
  const n = Number(set);
  if (!Number.isInteger(n) || n < 1000) throw new Error(`${ROWS_ENV}: "${set}" is not a whole number ≥ 1000`);
  return n;
}

const benchmark: Benchmark = {
  id: 'storage',
  title: 'Storage: an encrypted dump to the root and an S3 bucket at once, against a bare pg_dump',

  async run(ctx: BenchContext) {
    for (const tool of [AGE, AGE_KEYGEN])
      if (!existsSync(tool)) throw new Error(`storage: ${tool} is missing (Debian: apt-get install age)`);
    const noiseRows = rowsOf(ctx);
    const scratch = mkdtempSync(join(tmpdir(), 'pgbackman-bench-storage-'));
    // The database (about 250 bytes a row) and five copies of its dump (about 150 bytes a row): the root's,
    // the disk-only root's, pg_dump's, the bucket's object and its multipart parts while they are joined.
    const want = noiseRows * 1500 + 1024 ** 3;
    const free = (() => {
      const s = statfsSync(scratch);
      return s.bavail * s.bsize;
    })();
    if (free < want) {
      rmSync(scratch, { recursive: true, force: true });
      throw new Error(`storage: only ${mib(free)} free under ${scratch}; this benchmark wants ${mib(want)}`);
    }
    const path = (...p: string[]) => join(scratch, ...p);
    const rootS3 = path('root-offsite');
    const rootDisk = path('root-disk');
    const bucketDir = path('s3');
    const bare = path('bare');
    const manifestDir = path('manifests');
    for (const d of [rootS3, rootDisk, bucketDir, bare, manifestDir]) mkdirSync(d, { recursive: true });
    const key = path('key.txt');
    execFileSync(AGE_KEYGEN, ['-o', key], { stdio: 'ignore' });
    const recipient = execFileSync(AGE_KEYGEN, ['-y', key], { encoding: 'utf8' }).trim();

    ctx.log(`storage: starting s3rver (bench/s3-server.mjs) and a throwaway PostgreSQL (${mib(free)} free)`);
    const s3 = await startS3(ctx.root, bucketDir);
    let c: DumpCluster;
    try {
      c = await DumpCluster.start('bench-storage');
    } catch (err) {
      await s3.stop();
      rmSync(scratch, { recursive: true, force: true });
      throw err;
    }
    const release = stopOnSignal(async () => {
      await s3.stop();
      await c.stop();
      rmSync(scratch, { recursive: true, force: true });
    });
    // The runs' environment: s3rver's key, and pgbackman's cache of what it read kept in the scratch directory.
    const runEnv: Record<string, string> = { ...S3_ENV, PGBACKMAN_CACHE: path('cache') };
    const savedEnv = Object.keys(runEnv).map((k) => [k, process.env[k]] as const);
    try {
      const port = c.cluster.port;
      ctx.log(
        `storage: PostgreSQL ${c.version} on port ${port}, s3rver on port ${s3.port}; building ${DB.noise} (${fmt(noiseRows)} rows of random text and bytea)`,
      );
      await c.sql(`create database ${DB.noise}`);
      const md5s = (n: number) => Array.from({ length: n }, () => 'md5(random()::text)').join(' || ');
      await c.sqlIn(
        DB.noise,
        'create table noise (id bigint primary key, t text not null, b bytea not null)',
      );
      await c.sqlIn(
        DB.noise,
        `insert into noise select g, ${md5s(4)}, decode(${md5s(4)}, 'hex') from generate_series(1, ${noiseRows}) g`,
      );
      await c.sqlIn(DB.noise, 'vacuum analyze noise');
      const noiseBytes = await c.size(DB.noise);

      ctx.log('storage: migrating the catalogue and applying the manifests');
      const catalogue = c.url(DB.catalogue);
      await c.sql(`create database ${DB.catalogue}`);
      const endpoint = `http://127.0.0.1:${s3.port}`;
      const allow = `s3+http://127.0.0.1:${s3.port}/${BUCKET}/${PREFIX}`;
      const nodeDoc = serverAndNode(rootS3, port)[1] as string;
      writeFileSync(
        join(manifestDir, 'bench.yaml'),
        yamlFile([
          serverDoc(SERVER_S3, rootS3, [
            `{name: disk, local: {path: "${rootS3}"}}`,
            `{name: offsite, s3: {endpoint: "${endpoint}", region: eu-north-1, bucket: ${BUCKET}, prefix: ${PREFIX}/, forcePathStyle: true}, credentialsFrom: {env: {accessKeyId: PGBACKMAN_SECRET_S3_ID, secretAccessKey: PGBACKMAN_SECRET_S3_KEY}}}`,
          ]),
          serverDoc(SERVER_DISK, rootDisk, [`{name: disk, local: {path: "${rootDisk}"}}`]),
          nodeDoc,
          definitionDoc(DEF_S3, SERVER_S3, recipient),
          definitionDoc(DEF_DISK, SERVER_DISK, recipient),
        ]),
      );
      const cli = (...args: string[]) => ['bin/pgbackman.js', '--catalogue', catalogue, ...args];
      await exec(process.execPath, cli('catalogue', 'migrate'), ctx.root);
      await exec(process.execPath, cli('apply', manifestDir, '--auto-approve'), ctx.root);
      for (const [k, v] of Object.entries(runEnv)) process.env[k] = v;

      /** Every run's backup id, per definition, warm-ups first: their recorded durations are the executor's. */
      const runIds = new Map<string, string[]>();
      /** The last copy line of the S3 run: `(N files, SIZE)`. */
      let copied = '';
      /** s3rver's CPU time during each run of each command (from its /proc/PID/stat), warm-ups first. */
      const s3Cpu = new Map<string, number[]>();
      let s3Start: number | undefined;
      const s3Mark = () => {
        s3Start = processTreeCpuMs(s3.pid);
      };
      const s3Took = (label: string) => {
        const now = processTreeCpuMs(s3.pid);
        if (now !== undefined && s3Start !== undefined)
          s3Cpu.set(label, [...(s3Cpu.get(label) ?? []), now - s3Start]);
      };
      const succeeded = (name: string, stdout: string): string | undefined => {
        const id = /^Backup (\S+) SUCCEEDED: /m.exec(stdout)?.[1];
        if (id === undefined) return `expected "SUCCEEDED", got: ${stdout.trim().slice(-400)}`;
        runIds.set(name, [...(runIds.get(name) ?? []), id]);
        return undefined;
      };
      const shownRun = (name: string) =>
        `node bin/pgbackman.js --catalogue $PG/${DB.catalogue} --allow-destination s3+http://127.0.0.1:$S3_PORT/${BUCKET}/${PREFIX} run ${name}`;
      const bareOut = join(bare, 'noise.dump');
      const runS3: CommandSpec = {
        label: LABEL.s3,
        command: ['node', ...cli('--allow-destination', allow, 'run', DEF_S3)],
        shown: shownRun(DEF_S3),
        before: async () => {
          rmSync(join(rootS3, NODE, DB.noise), { recursive: true, force: true });
          rmSync(join(bucketDir, BUCKET, PREFIX), { recursive: true, force: true });
          s3Mark();
        },
        check: (stdout) => {
          s3Took(LABEL.s3);
          const problem = succeeded(DEF_S3, stdout);
          if (problem !== undefined) return problem;
          const line = /^ {2}copied to offsite: .*\((\d+ files, [^)]+)\)$/m.exec(stdout);
          if (line === null) return `expected "copied to offsite", got: ${stdout.trim().slice(-400)}`;
          copied = line[1] as string;
          return undefined;
        },
      };
      const runDisk: CommandSpec = {
        label: LABEL.disk,
        command: ['node', ...cli('--allow-destination', allow, 'run', DEF_DISK)],
        shown: shownRun(DEF_DISK),
        before: async () => {
          rmSync(join(rootDisk, NODE, DB.noise), { recursive: true, force: true });
          s3Mark();
        },
        check: (stdout) => {
          s3Took(LABEL.disk);
          const problem = succeeded(DEF_DISK, stdout);
          if (problem !== undefined) return problem;
          return /copied to/.test(stdout) ? `expected no copy, got: ${stdout.trim()}` : undefined;
        },
      };
      const bareDump: CommandSpec = {
        label: LABEL.bare,
        command: [c.tool('pg_dump'), '-Fc', '-f', bareOut, '--dbname', c.url(DB.noise)],
        shown: `pg_dump -Fc -f $OUT/noise.dump --dbname $PG/${DB.noise}`,
        before: async () => {
          rmSync(bareOut, { force: true });
          s3Mark();
        },
        check: () => {
          s3Took(LABEL.bare);
          return undefined;
        },
      };
      const specs = [runS3, runDisk, bareDump];
      const pgHelper = c.helper();
      // s3rver works for the S3 run: its CPU time is counted with PostgreSQL's, not as other processes'.
      const helper: Helper = {
        name: 'PostgreSQL + s3rver',
        cpuMs: () => {
          const pgMs = pgHelper.cpuMs();
          const s3Ms = processTreeCpuMs(s3.pid);
          return pgMs === undefined || s3Ms === undefined ? undefined : pgMs + s3Ms;
        },
      };
      const warmup = ctx.warmup ?? 1;
      ctx.log(`storage: ${specs.length} commands, interleaved`);
      const group = await measureGroup(specs, {
        root: ctx.root,
        runs: ctx.runs ?? 3,
        warmup,
        log: ctx.log,
        helper,
      });

      // Untimed: the last S3 run's dump is in the root and in the bucket, the same bytes, and opens with age.
      const local = onlyFolder(join(rootS3, NODE, DB.noise));
      const remote = onlyFolder(join(bucketDir, BUCKET, PREFIX, NODE, DB.noise));
      if (local === undefined || remote === undefined)
        throw new Error(`storage: the last ${DEF_S3} run's folder is missing in the root or the bucket`);
      const sealedFile = join(local, 'database.dump.age');
      const objectFile = join(remote, 'database.dump.age._S3rver_object');
      const sealedBytes = statSync(sealedFile).size;
      if (!existsSync(objectFile) || sha256Of(objectFile) !== sha256Of(sealedFile))
        throw new Error(`storage: the bucket's database.dump.age is not the root's (${objectFile})`);
      const inBucket = readdirSync(remote).filter((f) => f.endsWith('._S3rver_object'));
      const listed = execFileSync(
        'sh',
        [
          '-c',
          `${AGE} -d -i "$1" "$2" | "$3" --list | grep -c 'TABLE DATA'`,
          'sh',
          key,
          sealedFile,
          c.tool('pg_restore'),
        ],
        { encoding: 'utf8' },
      ).trim();
      if (listed !== '1')
        throw new Error(`storage: pg_restore --list of the decrypted dump: ${listed} TABLE DATA`);
      const bareBytes = statSync(bareOut).size;

      const executorMs = new Map<string, number>();
      for (const [name, ids] of runIds) {
        const rows = await c.rowsIn<{ ms: string }>(
          DB.catalogue,
          'select duration_ms::text as ms from pgbackman.backup_runs where id = any($1::uuid[])',
          [ids.slice(warmup)],
        );
        executorMs.set(name, stats(rows.map((r) => Number(r.ms))).median);
      }
      const wall = (label: string) => medianWall(group, label);
      const cpu = (label: string) => medianOf(group, label, 'cpuMs');
      const helperCpu = (label: string) => medianOf(group, label, 'helperCpuMs');
      const s3CpuOf = (label: string) => stats((s3Cpu.get(label) ?? []).slice(warmup)).median;
      const rssMax = maxOf(group, LABEL.s3, 'maxRssKiB') / 1024;
      const rssDiskMax = maxOf(group, LABEL.disk, 'maxRssKiB') / 1024;
      const exS3 = executorMs.get(DEF_S3) ?? Number.NaN;
      const exDisk = executorMs.get(DEF_DISK) ?? Number.NaN;
      const bareWall = wall(LABEL.bare);
      const small = ctx.small ? ' (`--small`: the smaller noise database)' : '';
      // The issue's own size: a dump of about 2 GiB.
      const full = bareBytes >= 1.9 * 1024 ** 3;
      const thisRun = [
        process.env[ROWS_ENV] === undefined ? '' : `${ROWS_ENV}=${process.env[ROWS_ENV]} `,
        'npm run bench -- storage',
        ctx.runs === undefined ? '' : ` --runs ${ctx.runs}`,
        ctx.warmup === undefined ? '' : ` --warmup ${ctx.warmup}`,
      ].join('');
      const cpuRow = (label: string, executor: number | undefined) =>
        `| ${label} | ${ms(wall(label))} | ${executor === undefined ? '-' : ms(executor)} | ${ms(cpu(label))} | ${ms(helperCpu(label) - s3CpuOf(label))} | ${ms(s3CpuOf(label))} |`;
      return {
        about: [
          `Issue 16's contract: "Dump of the incompressible benchmark database to local + the S3 test server at once, encrypted, against bare \`pg_dump -Fc -f\` in the same run: ≤ ${WALL_RATIO}× wall time, executor RSS ≤ ${RSS_LIMIT_MIB} MB". ${full ? `**This run is the size the issue asks for** (\`${thisRun}\`): the \`${DB.noise}\` database with` : `**The issue asks for a 2 GB dump; this run uses the dump benchmark's \`${DB.noise}\` database${small}**:`} ${fmt(noiseRows)} rows, each a \`text\` of 128 random hex digits and a \`bytea\` of 64 random bytes (${mib(noiseBytes)}; its bare custom dump is ${mib(bareBytes)}, sealed ${mib(sealedBytes)}). To scale it, set \`${ROWS_ENV}\` (rows; about 14,000,000 make a 2 GiB dump, and the benchmark then wants about 1.5 KB of free space a row under \`${tmpdir()}\`), or change \`NOISE_ROWS\` in bench/dump-databases.ts (the dump, restore and this benchmark's default).`,
          `Set-up, untimed: one throwaway PostgreSQL ${c.version} cluster (\`test/support/throwaway-postgres.ts\`: \`fsync\`, \`synchronous_commit\` and \`full_page_writes\` off; autovacuum off) over TCP on 127.0.0.1, holding \`${DB.noise}\` and the catalogue; s3rver (the tests' S3-compatible server, files under a temp directory) started by \`bench/s3-server.mjs\` in a Node process of its own, on 127.0.0.1, so its CPU time is apart from pgbackman's; an age key pair from \`age-keygen\`. Two BackupServers: \`${SERVER_S3}\` with \`storage: [{name: disk, local: {path: ROOT}}, {name: offsite, s3: {endpoint: "http://127.0.0.1:PORT", region: eu-north-1, bucket: ${BUCKET}, prefix: ${PREFIX}/, forcePathStyle: true}, credentialsFrom: {env: {accessKeyId: PGBACKMAN_SECRET_S3_ID, secretAccessKey: PGBACKMAN_SECRET_S3_KEY}}}]\` (the runner sets both variables to s3rver's key, \`S3RVER\`), and \`${SERVER_DISK}\`, its root alone. Two BackupDefinitions of \`${DB.noise}\`, \`FULL\`, \`format: custom\`, \`encryption: {age: {recipients: [RECIPIENT]}}\`: \`${DEF_S3}\` on the first, \`${DEF_DISK}\` on the second.`,
          `**${LABEL.s3}** is \`pgbackman run ${DEF_S3}\` with \`--allow-destination s3+http://127.0.0.1:PORT/${BUCKET}/${PREFIX}\`. What it does: encrypted, a custom dump is not written by pg_dump to its file (\`-f\`) but to pg_dump's stdout, which pgbackman reads through its hashed sink (one reused buffer; the plaintext hashed), seals with age (X25519 recipient, ChaCha20-Poly1305 in 64 KiB chunks, in the run's own process) and writes, sealed, to \`database.dump.age\` under the root and, the same sealed bytes, to the bucket as an S3 multipart upload (5 MiB parts through two buffers allocated once, one sent while the other fills, fed through a 1 MiB buffer) while pg_dump writes: one pass over the dump, no second read. Every 2 MiB through the sink, pgbackman asks V8 for a young-generation collection (a full one every 64 MiB), so the buffers sealing and uploading allocate per chunk are freed as the dump goes rather than once 64 MB of them have piled up (V8's allowance for external memory). \`run\`, like the agent, keeps V8's young generation at its first size and collects the old one sooner (src/agent/memory-policy.ts). What RSS the S3 run holds above the disk-only one is the upload's: the AWS SDK itself (about 20 MiB, loaded only when a bucket destination is first called, so the disk-only run does not load it), its two part buffers, the chunks on their way to them, and the SDK's requests. The dump is complete when the file is synced and the upload completed (s3rver joins the parts into the object then); the run records it (its \`duration_ms\` ends here), then copies the small files to the bucket (\`roles.sql.age\`, \`config.sql.age\`, \`dump.log\`, \`globals.log\`, \`backup.json\` last; each re-read from the root and its sha256 compared), records the copy, and exits. Every run's stdout is checked for \`SUCCEEDED\` (not \`SUCCEEDED_PARTIAL\`) and \`copied to offsite\` (the last: ${copied}). **${LABEL.disk}** is \`pgbackman run ${DEF_DISK}\`: the same encrypted dump to the root alone (the same flags), so the difference between the two is the upload's cost and the difference to pg_dump the encryption's and pgbackman's. **${LABEL.bare}** is the same pg_dump (\`${c.cluster.binDir}\`) writing the custom dump itself, \`pg_dump -Fc -f\`, plaintext. Before every run, untimed: the definition's run folders under its root are deleted, for the S3 run also everything under \`${PREFIX}/\` in s3rver's bucket directory (so the bucket never fills the disk), and pg_dump's file. After the measured runs, untimed: the last S3 run's \`database.dump.age\` in the bucket has the same sha256 as the root's, and \`age -d\` of it piped into \`pg_restore --list\` lists the table's data.`,
          `**executor** is each run's recorded \`duration_ms\` (from the run lock to the dump renamed into place, the upload completed, roles and configuration included; the median of the measured runs), as in the dump benchmark: the time the agent's long-lived process spends on the dump, without Node's start-up, the catalogue's reads, and the copy of the small files after the record. Peak RSS of a run is the largest of Node and the tools it starts (GNU time reports the largest descendant's; pg_dump's own is about 10 MiB, so it is Node's). The PostgreSQL + s3rver CPU column is split below: s3rver's from its process's \`/proc/PID/stat\` read just before and just after each run (medians of the measured runs).`,
          [
            '| measurement | wall | executor | CPU (the command) | PostgreSQL CPU | s3rver CPU |',
            '| --- | --- | --- | --- | --- | --- |',
            cpuRow(LABEL.s3, exS3),
            cpuRow(LABEL.disk, exDisk),
            cpuRow(LABEL.bare, undefined),
          ].join('\n'),
          `Where the time goes (medians): ${LABEL.s3} − ${LABEL.disk}: ${ms(wall(LABEL.s3) - wall(LABEL.disk))} of wall time (executor ${ms(exS3 - exDisk)}), the upload; ${LABEL.disk} − ${LABEL.bare}: ${ms(wall(LABEL.disk) - bareWall)} (executor ${ms(exDisk - bareWall)}), encryption through pgbackman; wall − executor: ${ms(wall(LABEL.s3) - exS3)} for the S3 run (Node's start-up, the catalogue, and the small files' copy after the record), ${ms(wall(LABEL.disk) - exDisk)} disk only. Largest peak RSS: ${LABEL.s3} ${rssMax.toFixed(0)} MiB, ${LABEL.disk} ${rssDiskMax.toFixed(0)} MiB. Objects in the bucket per run: ${inBucket.length}.`,
        ],
        reproduce: [
          `${thisRun}          # this run; ${ROWS_ENV}=14000000 makes a dump of about 2 GiB`,
          '# by hand (npm run build first): a PostgreSQL with the noise database (bench/dump-databases.ts) and the catalogue',
          'node bench/s3-server.mjs $(mktemp -d) dumps     # prints {"port":S3_PORT,...}; keeps running',
          `age-keygen -o key.txt; age-keygen -y key.txt      # the recipient for the definitions' encryption`,
          `node bin/pgbackman.js --catalogue $PG/${DB.catalogue} apply DIR --auto-approve   # DIR: the manifests above`,
          `export ${Object.entries(S3_ENV)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`,
          `${GNU_TIME} -v ${shownRun(DEF_S3)}`,
          `${GNU_TIME} -v ${shownRun(DEF_DISK)}`,
          `${GNU_TIME} -v pg_dump -Fc -f $OUT/noise.dump --dbname $PG/${DB.noise}`,
        ],
        groups: [group],
        ratios: [
          { name: `${LABEL.s3} / ${LABEL.bare}, wall`, value: wall(LABEL.s3) / bareWall },
          { name: `executor ${DEF_S3} (recorded duration) / ${LABEL.bare}, wall`, value: exS3 / bareWall },
          { name: `${LABEL.disk} / ${LABEL.bare}, wall`, value: wall(LABEL.disk) / bareWall },
          {
            name: `executor ${DEF_DISK} (recorded duration) / ${LABEL.bare}, wall`,
            value: exDisk / bareWall,
          },
          { name: `${LABEL.s3} / ${LABEL.disk}, wall`, value: wall(LABEL.s3) / wall(LABEL.disk) },
          { name: `${LABEL.s3} / ${LABEL.bare}, CPU`, value: cpu(LABEL.s3) / cpu(LABEL.bare) },
          { name: `${LABEL.disk} / ${LABEL.bare}, CPU`, value: cpu(LABEL.disk) / cpu(LABEL.bare) },
        ],
        targets: [
          target(`${LABEL.s3} / ${LABEL.bare}, median wall time`, wall(LABEL.s3) / bareWall, WALL_RATIO, '×'),
          target(
            `executor ${DEF_S3} (recorded duration) / ${LABEL.bare}, median wall time`,
            exS3 / bareWall,
            WALL_RATIO,
            '×',
          ),
          target(`${LABEL.s3}, peak RSS (largest run)`, rssMax, RSS_LIMIT_MIB, 'MiB'),
        ],
      };
    } finally {
      for (const [k, v] of savedEnv) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      release();
      ctx.log('storage: stopping s3rver and the throwaway PostgreSQL');
      await s3.stop();
      await c.stop();
      rmSync(scratch, { recursive: true, force: true });
    }
  },
};

export default benchmark;
