// `pgbackman validate` on 23,050 manifests in 1,000 files, against the floor of only parsing the same files
// with `yaml`; and `pgbackman --version` against `node -e 0`, the floor of starting Node at all.
import { relative } from 'node:path';
import { describeFixture, ensureFixture, FIXTURE_DIR, type FixtureStamp } from './generate-fixture.ts';
import {
  type BenchContext,
  type Benchmark,
  type CommandSpec,
  GNU_TIME,
  measureGroup,
  medianWall,
  target,
} from './harness.ts';

const VALIDATE_LIMIT_MS = 1500;
const VALIDATE_FLOOR_RATIO = 2;
const VERSION_LIMIT_MS = 150;

let fixture: FixtureStamp | undefined;

function total(s: FixtureStamp): number {
  return Object.values(s.counts).reduce((a, b) => a + b, 0);
}

const benchmark: Benchmark = {
  id: 'validate',
  title: 'Manifest validation and start-up',

  prepare(ctx: BenchContext) {
    fixture = ensureFixture({ log: ctx.log });
  },

  async run(ctx: BenchContext) {
    const stamp = fixture ?? ensureFixture({ log: ctx.log });
    const dir = relative(ctx.root, FIXTURE_DIR);
    const manifests = total(stamp);
    const documents = (parser: string) => (stdout: string) =>
      stdout.startsWith(`${manifests} documents in ${stamp.files} files (${parser})`)
        ? undefined
        : `expected ${manifests} documents in ${stamp.files} files, got: ${stdout.trim()}`;
    const validateSpecs: CommandSpec[] = [
      {
        label: 'validate',
        command: ['node', 'bin/pgbackman.js', 'validate', dir],
        // Exit 0 says all is valid; the count says every manifest was loaded.
        check: (stdout) =>
          new RegExp(`\\b${manifests} resources\\b`).test(stdout)
            ? undefined
            : `expected ${manifests} resources, got: ${stdout.trim()}`,
      },
      {
        label: 'floor (yaml)',
        command: ['node', 'bench/parse-floor.mjs', '--parser', 'yaml', dir],
        check: documents('yaml'),
      },
      {
        label: 'parse only (js-yaml)',
        command: ['node', 'bench/parse-floor.mjs', '--parser', 'js-yaml', dir],
        check: documents('js-yaml'),
      },
    ];
    const startSpecs: CommandSpec[] = [
      {
        label: '--version',
        command: ['node', 'bin/pgbackman.js', '--version'],
        check: (stdout) => (/^\d+\.\d+\.\d+/.test(stdout) ? undefined : `no version printed: ${stdout}`),
      },
      { label: 'node -e 0', command: ['node', '-e', '0'] },
    ];
    ctx.log(`validate: ${validateSpecs.length} commands, interleaved`);
    const validation = await measureGroup(validateSpecs, {
      root: ctx.root,
      runs: ctx.runs ?? 5,
      warmup: ctx.warmup ?? 1,
      log: ctx.log,
    });
    ctx.log(`start-up: ${startSpecs.length} commands, interleaved`);
    const startup = await measureGroup(startSpecs, {
      root: ctx.root,
      runs: Math.max(ctx.runs ?? 21, 11),
      warmup: ctx.warmup ?? 3,
      log: ctx.log,
    });
    const validate = medianWall(validation, 'validate');
    const floor = medianWall(validation, 'floor (yaml)');
    const jsYaml = medianWall(validation, 'parse only (js-yaml)');
    const version = medianWall(startup, '--version');
    const bare = medianWall(startup, 'node -e 0');
    return {
      about: [
        `Input: \`${dir}\`, written by \`bench/generate-fixture.ts\` (seeded, generator ${stamp.generator}): ${describeFixture(stamp)}. Every manifest is valid, so \`validate\` takes its fast path (js-yaml) everywhere and never builds positions; each run is checked to report all ${manifests.toLocaleString('en-US')} valid.`,
        "**Floor (yaml)** is `bench/parse-floor.mjs`: find the same files, read them, and parse each with `yaml`'s `parseAllDocuments` + `toJS()` (the library of the precise path), nothing else. **Parse only (js-yaml)** is the same script with `loadAll`, the parser the fast path uses: the floor `validate` can actually approach. `node -e 0` is the floor of starting Node at all.",
      ],
      reproduce: [
        'npm run bench                      # every benchmark; npm run bench -- validate for this one',
        'node --import tsx bench/generate-fixture.ts   # only the fixture (skipped when up to date)',
        `${GNU_TIME} -v node bin/pgbackman.js validate ${dir}`,
        `${GNU_TIME} -v node bench/parse-floor.mjs --parser yaml ${dir}`,
        `${GNU_TIME} -v node bench/parse-floor.mjs --parser js-yaml ${dir}`,
        `${GNU_TIME} -v node bin/pgbackman.js --version`,
        `${GNU_TIME} -v node -e 0`,
      ],
      groups: [validation, startup],
      ratios: [
        { name: 'validate / floor (yaml)', value: validate / floor },
        { name: 'validate / parse only (js-yaml)', value: validate / jsYaml },
        { name: '--version / node -e 0', value: version / bare },
      ],
      targets: [
        target('validate, median wall time', validate, VALIDATE_LIMIT_MS, 'ms'),
        target('validate / floor (yaml)', validate / floor, VALIDATE_FLOOR_RATIO, '×'),
        target('--version, median wall time', version, VERSION_LIMIT_MS, 'ms'),
      ],
    };
  },
};

export default benchmark;
