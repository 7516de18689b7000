// age encryption throughput: pgbackman's own sealer (encryptedTarget over fileTarget, what `pgbackman run`
// does to pg_dump's output when a definition has `encryption`) against Debian's `age` on the same 1 GiB of
// random bytes, as whole processes; and the other way, pgbackman's decryptor (what a restore reads an
// encrypted dump through) against `age -d`. The floor is the same Node process writing the bytes unsealed.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  statfsSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BenchContext,
  type Benchmark,
  type CommandSpec,
  GNU_TIME,
  type MeasuredGroup,
  measureGroup,
  medianWall,
  stats,
  target,
} from './harness.ts';

const AGE = '/usr/bin/age';
const AGE_KEYGEN = '/usr/bin/age-keygen';
const MiB = 1024 ** 2;
/** The plaintext: 1 GiB, or 512 MiB with `--small`. */
const SIZE = { full: 1024 * MiB, small: 512 * MiB } as const;
/** The fixture is written in pieces of this size, each from crypto.randomBytes. */
const PIECE = 16 * MiB;
/** pgbackman seal's peak RSS, whatever the size: the memory a dump's encryption may add to a run. */
const SEAL_RSS_LIMIT_MIB = 100;
/** age's format: a header (one X25519 stanza: the same length for age and pgbackman), then per 64 KiB chunk a 16-byte tag. */
const AGE_CHUNK = 64 * 1024;
const AGE_TAG = 16;

const sh = (s: string) => (/^[\w./=:@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;
const ms = (v: number) => (Number.isNaN(v) ? '?' : `${Math.round(v)} ms`);
const rate = (bytes: number, wallMs: number) => `${Math.round(bytes / MiB / (wallMs / 1000))} MiB/s`;

/** sha256 of a file, 1 MiB reads. */
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

/** SIZE random bytes into `path`, in PIECE-sized writes; returns their sha256. */
function writeRandom(path: string, size: number): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'wx', 0o600);
  try {
    for (let left = size; left > 0; left -= PIECE) {
      const piece = randomBytes(Math.min(PIECE, left));
      hash.update(piece);
      for (let off = 0; off < piece.length; ) off += writeSync(fd, piece, off);
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

function medianOf(group: MeasuredGroup, label: string, what: 'cpuMs' | 'maxRssKiB'): Stats {
  const m = group.measurements.find((x) => x.spec.label === label);
  if (m === undefined) throw new Error(`no measurement labelled "${label}"`);
  return stats(m[what]);
}
type Stats = ReturnType<typeof stats>;

const benchmark: Benchmark = {
  id: 'encryption',
  title: 'age encryption: pgbackman against age',

  async run(ctx: BenchContext) {
    for (const tool of [AGE, AGE_KEYGEN])
      if (!existsSync(tool)) throw new Error(`encryption: ${tool} is missing (Debian: apt-get install age)`);
    const size = ctx.small ? SIZE.small : SIZE.full;
    // The sealed payload: every 64 KiB chunk with its tag; the header's length is read from age's own file.
    const payloadSize = size + Math.max(1, Math.ceil(size / AGE_CHUNK)) * AGE_TAG;
    const scratch = mkdtempSync(join(tmpdir(), 'pgbackman-bench-encryption-'));
    const onSignal = (signal: NodeJS.Signals) => {
      process.stderr.write(`\n${signal}: removing ${scratch}\n`);
      rmSync(scratch, { recursive: true, force: true });
      process.exit(signal === 'SIGINT' ? 130 : 143);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const free = (() => {
        const s = statfsSync(scratch);
        return s.bavail * s.bsize;
      })();
      // The input, the sealed input, and one output per command (6), with some room to spare.
      if (free < size * 10)
        throw new Error(
          `encryption: only ${mib(free)} free under ${scratch}; this benchmark wants ${mib(size * 10)}`,
        );
      const path = (name: string) => join(scratch, name);
      const input = path('input');
      const key = path('key.txt');
      const sealed = path('sealed.age');

      ctx.log(`encryption: writing ${mib(size)} of random bytes to ${input}`);
      const inputSha = writeRandom(input, size);
      execFileSync(AGE_KEYGEN, ['-o', key], { stdio: 'ignore' });
      const recipient = execFileSync(AGE_KEYGEN, ['-y', key], { encoding: 'utf8' }).trim();
      const node = (...args: string[]) =>
        execFileSync(process.execPath, ['bench/age-seal.mjs', ...args], { cwd: ctx.root, encoding: 'utf8' });

      // Untimed: the decrypt group's input, and the checks that each side reads what the other writes.
      ctx.log('encryption: sealing the input once with age, and checking each side opens the other’s file');
      execFileSync(AGE, ['-r', recipient, '-o', sealed, input]);
      const header = statSync(sealed).size - payloadSize;
      const storedSize = payloadSize + header;
      const checkSealed = path('check-pgbackman.age');
      const checkOut = path('check.out');
      node('seal', recipient, input, checkSealed);
      if (statSync(checkSealed).size !== storedSize)
        throw new Error(
          `encryption: pgbackman sealed ${statSync(checkSealed).size} bytes, age ${storedSize}: not the same format`,
        );
      execFileSync(AGE, ['-d', '-i', key, '-o', checkOut, checkSealed]);
      if (sha256Of(checkOut) !== inputSha)
        throw new Error('encryption: age -d of pgbackman’s sealed file does not give back the input');
      rmSync(checkOut);
      rmSync(checkSealed);
      node('open', key, sealed, checkOut);
      if (sha256Of(checkOut) !== inputSha)
        throw new Error('encryption: pgbackman’s decryption of age’s file does not give back the input');
      rmSync(checkOut);

      /** A command writing `out`: the file is deleted before every run (untimed) and its size checked after. */
      const writing = (
        spec: Omit<CommandSpec, 'before' | 'check'>,
        out: string,
        bytes: number,
        stdout?: string,
      ): CommandSpec => ({
        ...spec,
        before: async () => rmSync(out, { force: true }),
        check: (printed) => {
          if (stdout !== undefined && printed.trim() !== stdout)
            return `expected "${stdout}", got: ${printed.trim()}`;
          const written = existsSync(out) ? statSync(out).size : -1;
          return written === bytes ? undefined : `${out}: ${written} bytes, expected ${bytes}`;
        },
      });
      const ageSealed = path('age.age');
      const ageSynced = path('age-sync.age');
      const ourSealed = path('pgbackman.age');
      const floorOut = path('floor');
      const empty = path('empty');
      const emptySealed = path('empty.age');
      writeFileSync(empty, '');
      const ageOpened = path('age-d.out');
      const ourOpened = path('pgbackman-open.out');
      const sealSpecs: CommandSpec[] = [
        writing(
          {
            label: 'age',
            command: [AGE, '-r', recipient, '-o', ageSealed, input],
            shown: 'age -r $RECIPIENT -o $DIR/age.age $DIR/input',
          },
          ageSealed,
          storedSize,
        ),
        writing(
          {
            label: 'age + sync',
            command: [
              'sh',
              '-c',
              `${AGE} -r ${recipient} -o ${sh(ageSynced)} ${sh(input)} && sync ${sh(ageSynced)}`,
            ],
            shown: "sh -c 'age -r $RECIPIENT -o $DIR/age-sync.age $DIR/input && sync $DIR/age-sync.age'",
          },
          ageSynced,
          storedSize,
        ),
        writing(
          {
            label: 'pgbackman seal',
            command: ['node', 'bench/age-seal.mjs', 'seal', recipient, input, ourSealed],
            shown: 'node bench/age-seal.mjs seal $RECIPIENT $DIR/input $DIR/pgbackman.age',
          },
          ourSealed,
          storedSize,
          `${size} bytes in, ${storedSize} bytes out`,
        ),
        writing(
          {
            label: 'floor',
            command: ['node', 'bench/age-seal.mjs', 'floor', input, floorOut],
            shown: 'node bench/age-seal.mjs floor $DIR/input $DIR/floor',
          },
          floorOut,
          size,
          `${size} bytes in, ${size} bytes out`,
        ),
        // The fixed part of the seal's time and memory: Node, the modules, age-encryption, one key wrapped.
        writing(
          {
            label: 'pgbackman seal, empty input',
            command: ['node', 'bench/age-seal.mjs', 'seal', recipient, empty, emptySealed],
            shown: 'node bench/age-seal.mjs seal $RECIPIENT $DIR/empty $DIR/empty.age',
          },
          emptySealed,
          header + AGE_TAG,
          `0 bytes in, ${header + AGE_TAG} bytes out`,
        ),
      ];
      const openSpecs: CommandSpec[] = [
        writing(
          {
            label: 'age -d',
            command: [AGE, '-d', '-i', key, '-o', ageOpened, sealed],
            shown: 'age -d -i $DIR/key.txt -o $DIR/age-d.out $DIR/sealed.age',
          },
          ageOpened,
          size,
        ),
        writing(
          {
            label: 'pgbackman open',
            command: ['node', 'bench/age-seal.mjs', 'open', key, sealed, ourOpened],
            shown: 'node bench/age-seal.mjs open $DIR/key.txt $DIR/sealed.age $DIR/pgbackman-open.out',
          },
          ourOpened,
          size,
          `${storedSize} bytes in, ${size} bytes out`,
        ),
      ];
      const options = { root: ctx.root, runs: ctx.runs ?? 3, warmup: ctx.warmup ?? 1, log: ctx.log };
      ctx.log(`encryption: sealing, ${sealSpecs.length} commands, interleaved`);
      const sealing = await measureGroup(sealSpecs, options);
      ctx.log(`encryption: opening, ${openSpecs.length} commands, interleaved`);
      const opening = await measureGroup(openSpecs, options);
      // The last runs' outputs are still there: each gives back the input (untimed).
      for (const out of [ageOpened, ourOpened])
        if (sha256Of(out) !== inputSha) throw new Error(`encryption: ${out} is not the input`);

      const wallS = (l: string) => medianWall(sealing, l);
      const wallO = (l: string) => medianWall(opening, l);
      const cpuS = (l: string) => medianOf(sealing, l, 'cpuMs').median;
      const cpuO = (l: string) => medianOf(opening, l, 'cpuMs').median;
      const sealRss = medianOf(sealing, 'pgbackman seal', 'maxRssKiB');
      const emptyRss = medianOf(sealing, 'pgbackman seal, empty input', 'maxRssKiB');
      const openRss = medianOf(opening, 'pgbackman open', 'maxRssKiB');
      const [age, ageSync, seal, floor, ageD, open] = [
        wallS('age'),
        wallS('age + sync'),
        wallS('pgbackman seal'),
        wallS('floor'),
        wallO('age -d'),
        wallO('pgbackman open'),
      ];
      const small = ctx.small ? ' (**`--small`**: not the full 1 GiB)' : '';
      const throughput = [
        '| command | plaintext per second of wall time (median) | CPU median |',
        '| --- | --- | --- |',
        ...(
          [
            ['age', age, cpuS('age')],
            ['age + sync', ageSync, cpuS('age + sync')],
            ['pgbackman seal', seal, cpuS('pgbackman seal')],
            ['floor', floor, cpuS('floor')],
            ['age -d', ageD, cpuO('age -d')],
            ['pgbackman open', open, cpuO('pgbackman open')],
          ] as const
        ).map(([label, wall, cpu]) => `| ${label} | ${rate(size, wall)} | ${ms(cpu)} |`),
      ].join('\n');
      return {
        about: [
          `Input${small}: ${mib(size)} of random bytes (incompressible; \`crypto.randomBytes\` in 16 MiB pieces), written once, untimed, to a fresh directory under \`${tmpdir()}\` with an age key pair from \`age-keygen -o key.txt\` and \`age-keygen -y key.txt\`; every output goes to the same directory (the same filesystem as the input, as a dump's file), and is deleted before each run, untimed. The input stays in the page cache, so reads cost no disk. \`age\` is Debian's (\`${AGE}\`, ${execFileSync(AGE, ['--version'], { encoding: 'utf8' }).trim()}).`,
          `**age** is \`age -r RECIPIENT -o OUT IN\`. **age + sync** is the same, then \`sync OUT\` (coreutils: an fsync of the file): pgbackman's file target syncs what it wrote before it reports the dump done, age does not, so this is the like-for-like row. **pgbackman seal** is \`bench/age-seal.mjs seal\`: pgbackman's real code path from \`dist/\`, \`encryptedTarget(await fileTarget(OUT), [RECIPIENT])\` (src/encryption/encrypted-target.ts over src/backup/files/hashed-sink.ts): each call seals with \`ageSealer\` (the header from \`age-encryption\`, the 64 KiB chunks with OpenSSL's ChaCha20-Poly1305 through node:crypto), hashes the sealed bytes with sha256 (what the catalogue records) and writes them to a new 0600 file; it is handed the input read in 2 MiB pieces into one reused buffer (as the hashed sink hands pg_dump's output over), then \`finish()\` (the last chunk, the file synced and closed). That is what a \`pgbackman run\` of a definition with \`encryption\` does to pg_dump's output, less the sink itself (the socket from pg_dump and its sha256 of the plaintext, which an unencrypted run pays too). **floor** is the same script with no sealing: the same reads, and the same bytes written straight through \`fileTarget\` (synced): Node's start and its I/O, so **pgbackman seal − floor** is the sealing itself. Every run's output size is checked: pgbackman's sealed file is exactly as long as age's (${storedSize.toLocaleString('en-US')} bytes: a ${header}-byte header, then ${AGE_TAG} bytes of tag per 64 KiB chunk).`,
          `**age -d** is \`age -d -i key.txt -o OUT SEALED\`; **pgbackman open** is \`bench/age-seal.mjs open\`: \`openDumpFile(SEALED, identities)\` (src/encryption/read-encrypted.ts: \`createReadStream\` piped through \`ageDecryptor\`, as a restore reads an encrypted dump) with the identities \`readIdentities\` reads from key.txt, piped into a new file (not synced; age's is not either). SEALED is the input sealed once by age, untimed. Checked before measuring, untimed: \`age -d\` of pgbackman's sealed file and pgbackman's decryption of age's both give back the input (sha256); after measuring, the last runs' decrypted files do too.`,
          `Throughput, ${mib(size)} of plaintext over the whole process (Node's start and loading \`age-encryption\` included): sealing alone (seal − floor, ${ms(seal - floor)}) is ${rate(size, seal - floor)}. Peak RSS of pgbackman seal: median ${mib(sealRss.median * 1024)}, max ${mib(sealRss.max * 1024)}, of which ${mib(emptyRss.median * 1024)} with an empty input (**pgbackman seal, empty input**: Node, the modules, \`age-encryption\`, the recipient's stanza; its wall time is the fixed cost of a seal); of pgbackman open: median ${mib(openRss.median * 1024)}, max ${mib(openRss.max * 1024)}. A \`--small\` run (half the input) shows how it depends on the size.\n\n${throughput}`,
        ],
        reproduce: [
          `npm run bench -- encryption${ctx.small ? ' --small' : ''}${ctx.runs === undefined ? '' : ` --runs ${ctx.runs}`}${ctx.warmup === undefined ? '' : ` --warmup ${ctx.warmup}`}`,
          '# by hand (npm run build first): a directory with random bytes and a key pair',
          'DIR=$(mktemp -d); head -c 1G /dev/urandom > $DIR/input',
          'age-keygen -o $DIR/key.txt; RECIPIENT=$(age-keygen -y $DIR/key.txt)',
          'age -r $RECIPIENT -o $DIR/sealed.age $DIR/input      # the input of the decrypt rows',
          `${GNU_TIME} -v age -r $RECIPIENT -o $DIR/age.age $DIR/input`,
          `${GNU_TIME} -v sh -c 'age -r $RECIPIENT -o $DIR/age-sync.age $DIR/input && sync $DIR/age-sync.age'`,
          `${GNU_TIME} -v node bench/age-seal.mjs seal $RECIPIENT $DIR/input $DIR/pgbackman.age   # refuses an existing OUT`,
          `${GNU_TIME} -v node bench/age-seal.mjs floor $DIR/input $DIR/floor`,
          `${GNU_TIME} -v age -d -i $DIR/key.txt -o $DIR/age-d.out $DIR/sealed.age`,
          `${GNU_TIME} -v node bench/age-seal.mjs open $DIR/key.txt $DIR/sealed.age $DIR/pgbackman-open.out`,
          'age -d -i $DIR/key.txt $DIR/pgbackman.age | cmp - $DIR/input && cmp $DIR/pgbackman-open.out $DIR/input',
          'rm -r $DIR',
        ],
        groups: [sealing, opening],
        ratios: [
          { name: 'pgbackman seal / age, wall', value: seal / age },
          { name: 'pgbackman seal / age + sync, wall', value: seal / ageSync },
          { name: 'pgbackman seal / floor, wall', value: seal / floor },
          { name: 'floor / age + sync, wall', value: floor / ageSync },
          { name: 'pgbackman seal / age, CPU', value: cpuS('pgbackman seal') / cpuS('age') },
          { name: 'pgbackman open / age -d, wall', value: open / ageD },
          { name: 'pgbackman open / age -d, CPU', value: cpuO('pgbackman open') / cpuO('age -d') },
        ],
        targets: [
          target('pgbackman seal, peak RSS (largest run)', sealRss.max / 1024, SEAL_RSS_LIMIT_MIB, 'MiB'),
        ],
      };
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      rmSync(scratch, { recursive: true, force: true });
    }
  },
};

export default benchmark;
