import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { type AgentProcess, type LogLine, startAgent, watchingAgentArgs } from '../support/agent-process.ts';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { localSetup } from '../support/fixtures.ts';
import { parsePromText, samplesOf } from '../support/prom-text.ts';
import { runCli } from '../support/run-cli.ts';
import { createSourceDatabase, testServerUrl, withClient, withDatabase } from '../support/test-database.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.ts';

const DB = 'alerts_source';
const ofFlaky = (l: LogLine) => String(l.definition ?? '').endsWith('flaky');
const NODE_SECRET = 'node-password-never-in-an-alert';
const HOOK_SECRET = 'hook-signing-key-never-sent';

interface Mail {
  readonly to: string[];
  readonly raw: string;
}
interface Hook {
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** An SMTP server in the test process: what it receives, as the agent sent it. */
async function startSmtp(): Promise<{ port: number; mails: Mail[]; stop(): Promise<void> }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, done) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => {
        raw += c;
      });
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
        done();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A webhook receiver that answers `status()`: 503 while "down". */
async function startReceiver(): Promise<{
  port: number;
  hooks: Hook[];
  tries: number;
  status: number;
  server: Server;
}> {
  const state = { port: 0, hooks: [] as Hook[], tries: 0, status: 503, server: createServer() };
  state.server.on('request', (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => {
      state.tries++;
      if (state.status === 200) state.hooks.push({ headers: req.headers, body });
      res.writeHead(state.status).end();
    });
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  state.port = (state.server.address() as AddressInfo).port;
  return state;
}

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

/** Writes `dir/manifests/setup.yaml`: the test server as node n1, the root under `dir`, and `definitions`. */
async function writeManifests(
  dir: string,
  definitions: Record<string, string>,
  nodeSpec?: string,
): Promise<string> {
  const node = new URL(testServerUrl());
  const manifests = join(dir, 'manifests');
  await mkdir(manifests, { recursive: true });
  await writeFile(
    join(manifests, 'setup.yaml'),
    localSetup({
      root: join(dir, 'root'),
      host: node.hostname,
      port: node.port,
      ...(nodeSpec === undefined ? {} : { nodeSpec }),
      definitions,
    }),
  );
  return manifests;
}

/** One describe's world: a test catalogue, a scratch directory, a receiver answering 200, a source database. */
function scene(label: string, source: string) {
  const it = {} as {
    catalogue: TestCatalogue;
    dir: string;
    receiver: Awaited<ReturnType<typeof startReceiver>>;
    agent: AgentProcess | undefined;
  };
  before(async () => {
    it.catalogue = await createTestCatalogue('postgres', label);
    it.dir = await mkdtemp(join(tmpdir(), `pgbackman-${label}-`));
    it.receiver = await startReceiver();
    it.receiver.status = 200;
    await createSourceDatabase(source);
  });
  after(async () => {
    it.agent?.signal('SIGKILL');
    it.receiver?.server.close();
    await it.catalogue?.drop();
    await rm(it.dir, { recursive: true, force: true });
  });
  return it;
}

/** The scene's agent, watching `manifests`, its webhooks allowed to the scene's receiver. */
function startWatching(w: ReturnType<typeof scene>, manifests: string, ...extra: string[]): AgentProcess {
  w.agent = startAgent(
    watchingAgentArgs(
      w.catalogue.location,
      manifests,
      join(w.dir, 'state'),
      '--allow-webhook',
      `http://127.0.0.1:${w.receiver.port}/`,
      ...extra,
    ),
  );
  return w.agent;
}

/** A mail's decoded text: nodemailer may fold or quote-print long lines. */
const textOf = (m: Mail) =>
  m.raw
    .replace(/=\r?\n/g, '')
    .replace(/\r?\n(?=[ \t])/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(Number.parseInt(h, 16)));

describe('a failed dump reaches a person by e-mail and webhook', () => {
  let catalogue: TestCatalogue;
  let dir: string;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  /** A receiver the operator did not allow: it must never be posted to. */
  let forbidden: Awaited<ReturnType<typeof startReceiver>>;
  let agent: AgentProcess | undefined;

  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'alerts');
    dir = await mkdtemp(join(tmpdir(), 'pgbackman-alerts-'));
    smtp = await startSmtp();
    receiver = await startReceiver();
    forbidden = await startReceiver();
    await withClient(testServerUrl(), (c) => c.query(`drop database if exists ${DB} with (force)`));
  });
  after(async () => {
    agent?.signal('SIGKILL');
    await smtp?.stop();
    receiver?.server.close();
    forbidden?.server.close();
    await catalogue?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  test('failed: one e-mail and one signed webhook with what failed and no secret; the webhook, down at first, gets it when it is back; recovered once', async () => {
    const manifests = await writeManifests(
      dir,
      {
        // Its database does not exist yet: every run fails until the test creates it.
        flaky: `database: ${DB}, schedule: "* * * * * *", notify: {email: [dba@example.org], webhooks: [{url: "http://127.0.0.1:${receiver.port}/hook", secretFrom: {env: PGBACKMAN_SECRET_HOOK}}], minInterval: 1h}`,
        elsewhere: `database: alerts_never_there, schedule: "*/2 * * * * *", notify: {webhooks: [{url: "http://127.0.0.1:${forbidden.port}/steal"}], minInterval: 1h}`,
      },
      'passwordFrom: {env: PGBACKMAN_SECRET_NODE_PW}',
    );
    agent = startAgent(
      watchingAgentArgs(
        catalogue.location,
        manifests,
        join(dir, 'state'),
        '--smtp',
        `smtp://127.0.0.1:${smtp.port}`,
        '--mail-from',
        'backup01@example.org',
        '--allow-webhook',
        `http://127.0.0.1:${receiver.port}/`,
        '--status-url',
        'http://backup01.example.org:9187/',
        '--alert-retry',
        '1s',
      ),
      { PGBACKMAN_SECRET_NODE_PW: NODE_SECRET, PGBACKMAN_SECRET_HOOK: HOOK_SECRET },
    );

    const failedRun = await agent.waitFor(
      (l) => l.event === 'run_finished' && l.status === 'FAILED' && ofFlaky(l),
      60_000,
    );
    const mail = await until('the failure e-mail', () => smtp.mails[0]);
    assert.deepEqual(mail.to, ['dba@example.org']);
    const text = textOf(mail);
    assert.match(
      text,
      /Subject: \[pgbackman\] FAILED: BackupDefinition\/flaky \(database alerts_source on n1\)/,
    );
    assert.match(text, /From: backup01@example\.org/);
    assert.match(text, /alerts_source.*does not exist/);
    assert.match(text, /Status page: http:\/\/backup01\.example\.org:9187\//);
    assert.match(text, new RegExp(`pgbackman describe backup ${String(failedRun.run)}`));

    // The webhook answers 503: the agent tries again, and the dumps go on meanwhile.
    await agent.waitFor((l) => l.event === 'alert_retry', 30_000);
    const retried = agent.lines.length;
    await agent.waitFor((l) => l.event === 'run_finished', 30_000, retried);
    receiver.status = 200;
    const hook = await until('the failure webhook', () => receiver.hooks[0], 30_000);
    const doc = JSON.parse(hook.body);
    assert.deepEqual(
      [doc.event, doc.kind, doc.definition, doc.node, doc.database, doc.server, doc.status],
      ['failed', 'BackupDefinition', 'flaky', 'n1', DB, 'local', 'FAILED'],
    );
    assert.equal(hook.headers['x-pgbackman-event'], 'failed');
    assert.equal(
      hook.headers['x-pgbackman-signature'],
      `sha256=${createHmac('sha256', HOOK_SECRET).update(hook.body).digest('hex')}`,
    );
    assert.ok(receiver.tries > 1, 'the webhook was tried while it answered 503');

    // Flapping: more failures within minInterval send nothing more.
    const failures = () =>
      agent?.lines.filter((l) => l.event === 'run_finished' && l.status === 'FAILED').length ?? 0;
    const seen = failures();
    await until('two more failed runs', () => (failures() >= seen + 2 ? true : undefined), 30_000);
    await sleep(1000);
    assert.equal(smtp.mails.length, 1, 'one e-mail for a failing definition within minInterval');
    assert.equal(receiver.hooks.length, 1, 'one webhook for a failing definition within minInterval');

    // The database appears: the next run succeeds, and recovered is said once.
    await createSourceDatabase(DB);
    await agent.waitFor((l) => l.event === 'run_finished' && l.status === 'SUCCEEDED', 60_000);
    const recovered = await until('the recovered e-mail', () => smtp.mails[1]);
    assert.match(textOf(recovered), /Subject: \[pgbackman\] RECOVERED: BackupDefinition\/flaky/);
    await until('the recovered webhook', () => receiver.hooks[1]);
    const successes = () =>
      agent?.lines.filter((l) => l.event === 'run_finished' && l.status === 'SUCCEEDED').length ?? 0;
    const succeeded = successes();
    await until('two more successful runs', () => (successes() >= succeeded + 2 ? true : undefined), 30_000);
    await sleep(1000);
    assert.equal(smtp.mails.length, 2, 'recovered is sent once');
    assert.equal(receiver.hooks.length, 2);
    assert.equal(JSON.parse(receiver.hooks[1]?.body ?? '{}').event, 'recovered');

    // Never a secret: not the node's password, not the signing key, in any message.
    for (const m of [...smtp.mails.map((x) => x.raw), ...receiver.hooks.map((h) => h.body)]) {
      assert.doesNotMatch(m, new RegExp(NODE_SECRET));
      assert.doesNotMatch(m, new RegExp(HOOK_SECRET));
    }

    // The queue says what was sent, and how many tries the webhook took.
    const rows = await withClient(catalogue.location, (c) =>
      c.query<{ event: string; channel: string; status: string; attempts: number }>(
        "select event, channel, status, attempts from pgbackman.alert_messages where definition = 'flaky' order by id",
      ),
    );
    assert.deepEqual(
      rows.rows.map((r) => [r.event, r.channel, r.status]),
      [
        ['failed', 'email', 'SENT'],
        ['failed', 'webhook', 'SENT'],
        ['recovered', 'email', 'SENT'],
        ['recovered', 'webhook', 'SENT'],
      ],
    );
    assert.ok((rows.rows[1]?.attempts ?? 0) > 1);

    // A webhook under no --allow-webhook prefix: given up at once, with the reason, and never posted to.
    const refused = await withClient(catalogue.location, (c) =>
      c.query<{ status: string; last_error: string }>(
        "select status, last_error from pgbackman.alert_messages where definition = 'elsewhere'",
      ),
    );
    assert.deepEqual(
      refused.rows.map((r) => [r.status, r.last_error]),
      [
        [
          'FAILED',
          `the agent's operator does not allow posting to http://127.0.0.1:${forbidden.port}/steal (--allow-webhook)`,
        ],
      ],
    );
    assert.equal(forbidden.tries, 0);

    agent.signal('SIGTERM');
    assert.equal(await agent.exited, 0);
  });
});

describe("a manifest cannot send alerts where the operator did not allow, nor read the agent's secrets", () => {
  test('validate refuses a signing key from a variable that is not PGBACKMAN_SECRET_*, a URL with credentials, and an address with a header or a second recipient in it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pgbackman-alerts-abuse-'));
    try {
      await writeFile(
        join(dir, 'bad.yaml'),
        localSetup({
          root: '/srv/pgbackman',
          host: '127.0.0.1',
          port: 5432,
          definitions: {
            sneaky: `database: shop, notify: {email: ["ops@example.org\\r\\nBcc: all@example.org", "a@example.org, b@example.org"], webhooks: [{url: "https://hooks.example.org/x", secretFrom: {env: AWS_SECRET_ACCESS_KEY}}, {url: "https://me:pw@hooks.example.org/y"}]}`,
          },
        }),
      );
      const r = await runCli(['validate', dir]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /bad\.yaml:\d+:\d+: error: BackupDefinition\/sneaky: \/spec\/notify\/webhooks\/0\/secretFrom\/env/,
      );
      assert.match(r.stderr, /\/spec\/notify\/webhooks\/1\/url/);
      // A header smuggled into an address, or a second recipient behind a comma.
      assert.match(r.stderr, /\/spec\/notify\/email\/0/);
      assert.match(r.stderr, /\/spec\/notify\/email\/1/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('an alert survives a catalogue that is down and an agent that is killed', () => {
  let catalogue: ThrowawayPostgres | undefined;
  let dir: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const agents: AgentProcess[] = [];
  const SOURCE = 'alerts_goes_away';

  before(async () => {
    // The catalogue on a cluster of its own, so it can stop while the node stays up.
    catalogue = await startThrowawayPostgres('alerts-catalogue');
    assert.equal((await runCli(['--catalogue', catalogue.url, 'catalogue', 'migrate'])).code, 0);
    dir = await mkdtemp(join(tmpdir(), 'pgbackman-alerts-spool-'));
    receiver = await startReceiver();
    receiver.status = 200;
    await createSourceDatabase(SOURCE);
  });
  after(async () => {
    for (const a of agents) a.signal('SIGKILL');
    receiver?.server.close();
    await catalogue?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('a run fails while the catalogue is down: its alert waits in the state directory, and the next start sends it', async () => {
    const state = join(dir, 'state');
    const manifests = await writeManifests(dir, {
      // Failures only: the restart may also record MISSED runs (the agent was down), a message of its own.
      goes: `database: ${SOURCE}, schedule: "* * * * * *", notify: {webhooks: [{url: "http://127.0.0.1:${receiver.port}/hook"}], events: [failed]}`,
    });
    const args = watchingAgentArgs(
      (catalogue as ThrowawayPostgres).url,
      manifests,
      state,
      '--allow-webhook',
      `http://127.0.0.1:${receiver.port}/`,
    );
    const first = startAgent(args);
    agents.push(first);
    await first.waitFor((l) => l.event === 'run_finished' && l.status === 'SUCCEEDED', 60_000);

    await (catalogue as ThrowawayPostgres).pause();
    await withClient(testServerUrl(), (c) => c.query(`drop database ${SOURCE} with (force)`));
    const from = first.lines.length;
    await first.waitFor((l) => l.event === 'alert_not_queued', 30_000, from);
    const waiting = (await readdir(join(state, 'alerts'))).filter((n) => n.endsWith('.json'));
    assert.ok(waiting.length >= 1, 'the run end waits on disk');
    first.signal('SIGKILL');
    await first.exited;
    assert.equal(receiver.tries, 0, 'nothing could be sent while the catalogue was down');

    await (catalogue as ThrowawayPostgres).resume();
    const second = startAgent(args);
    agents.push(second);
    const hook = await until('the failure webhook after the restart', () => receiver.hooks[0], 60_000);
    const doc = JSON.parse(hook.body);
    assert.deepEqual([doc.event, doc.definition, doc.database], ['failed', 'goes', SOURCE]);
    second.signal('SIGTERM');
    assert.equal(await second.exited, 0);
    // Every failure while it was down was one event within minInterval: one message, and the spool is empty.
    assert.equal(receiver.hooks.length, 1);
    assert.deepEqual(
      (await readdir(join(state, 'alerts'))).filter((n) => n.endsWith('.json')),
      [],
    );
  });
});

describe('a restore test and a restore that fail reach a person', () => {
  const SOURCE = 'alerts_verified';
  const w = scene('alerts-verify', SOURCE);

  test('verify_failed: the probe says the restored copy is wrong; restore_failed: a RestoreDefinition refused; each webhook names what and why', async () => {
    const manifests = await writeManifests(w.dir, {
      checked: `database: ${SOURCE}, schedule: "* * * * * *", verify: {every: 1h, node: n1, probe: "select count(*) = 999 from t"}, notify: {webhooks: [{url: "http://127.0.0.1:${w.receiver.port}/hook"}], events: [verify_failed]}`,
    });
    // A RestoreDefinition onto the source database itself: it exists, so the restore is refused (FAILED).
    await appendFile(
      join(manifests, 'setup.yaml'),
      `---\napiVersion: pgbackman.io/v1\nkind: RestoreDefinition\nmetadata: {name: onto-itself}\nspec: {source: {definition: checked}, target: {node: n1, database: ${SOURCE}}, notify: {webhooks: [{url: "http://127.0.0.1:${w.receiver.port}/restores"}]}}\n`,
    );
    w.agent = startAgent(
      watchingAgentArgs(
        w.catalogue.location,
        manifests,
        join(w.dir, 'state'),
        '--allow-verify-probes',
        '--allow-webhook',
        `http://127.0.0.1:${w.receiver.port}/`,
      ),
    );
    const finished = await w.agent.waitFor((l) => l.event === 'verify_finished', 60_000);
    assert.equal(finished.status, 'VERIFY_FAILED');
    const hookOf = (event: string) =>
      w.receiver.hooks.map((h) => JSON.parse(h.body)).find((d) => d.event === event) as
        | Record<string, string>
        | undefined;
    const verify = await until('the verify_failed webhook', () => hookOf('verify_failed'), 30_000);
    assert.deepEqual(
      [verify.definition, verify.database, verify.runId, verify.errorCode],
      ['checked', SOURCE, finished.run, 'VERIFY_FAILED'],
    );
    assert.match(String(verify.error), /probe/);

    const restore = await until('the restore_failed webhook', () => hookOf('restore_failed'), 60_000);
    assert.deepEqual(
      [restore.kind, restore.definition, restore.node, restore.database, restore.errorCode],
      ['RestoreDefinition', 'onto-itself', 'n1', SOURCE, 'RESTORE_FAILED'],
    );
    // Applied before its source's first dump, or after: refused either way, and said.
    assert.match(
      String(restore.error),
      /no successful dump of BackupDefinition\/checked|exists on the target/,
    );
    // The dumps succeed: events [verify_failed] hears of nothing else, and each failure is said once.
    await sleep(1000);
    assert.equal(w.receiver.hooks.length, 2);
    w.agent.signal('SIGTERM');
    assert.equal(await w.agent.exited, 0);
    w.agent = undefined;
  });
});

describe('runs missed while the agent was down reach a person when it starts again', () => {
  const SOURCE = 'alerts_missed';
  const w = scene('alerts-missed', SOURCE);

  test('missed: the MISSED row the restarted agent records is said, with how many runs and when; a definition that failed before it and succeeds after it has recovered', async () => {
    const manifests = await writeManifests(w.dir, {
      often: `database: ${SOURCE}, schedule: "* * * * * *", notify: {webhooks: [{url: "http://127.0.0.1:${w.receiver.port}/hook"}], events: [missed, recovered]}`,
    });
    // It fails while its database is gone, then the agent is down while the database comes back.
    await withClient(testServerUrl(), (c) => c.query(`drop database ${SOURCE} with (force)`));
    const args = watchingAgentArgs(
      w.catalogue.location,
      manifests,
      join(w.dir, 'state'),
      '--allow-webhook',
      `http://127.0.0.1:${w.receiver.port}/`,
    );
    w.agent = startAgent(args);
    await w.agent.waitFor((l) => l.event === 'run_finished' && l.status === 'FAILED', 30_000);
    w.agent.signal('SIGTERM');
    assert.equal(await w.agent.exited, 0);
    await createSourceDatabase(SOURCE);
    await sleep(3000);
    w.agent = startAgent(args);
    const missed = await w.agent.waitFor((l) => l.event === 'runs_missed', 30_000);
    const hookOf = (event: string) =>
      w.receiver.hooks.map((h) => JSON.parse(h.body)).find((d) => d.event === event) as
        | Record<string, string>
        | undefined;
    const doc = await until('the missed webhook', () => hookOf('missed'), 30_000);
    assert.deepEqual([doc.event, doc.definition, doc.status], ['missed', 'often', 'MISSED']);
    assert.match(
      String(doc.error),
      new RegExp(`^${String(missed.missed)} scheduled run\\(s\\) missed: no agent ran`),
    );
    // The MISSED row between the failure and the success does not hide the recovery.
    const recovered = await until('the recovered webhook', () => hookOf('recovered'), 30_000);
    assert.equal(recovered.definition, 'often');
    w.agent.signal('SIGTERM');
    assert.equal(await w.agent.exited, 0);
    w.agent = undefined;
    assert.equal(w.receiver.hooks.length, 2, 'one missed, one recovered; failed is not listened for');
  });
});

describe('a dump stuck on a lock reaches a person as overdue, once', () => {
  const SOURCE = 'alerts_overdue';
  const w = scene('alerts-overdue', SOURCE);

  test('overdue: no success by the due time plus grace is said once, while the dump waits; the stuck definition is OVERDUE in status', async () => {
    const manifests = await writeManifests(w.dir, {
      stuck: `database: ${SOURCE}, schedule: "*/2 * * * * *", notify: {webhooks: [{url: "http://127.0.0.1:${w.receiver.port}/hook"}], events: [overdue]}`,
    });
    // A session holds its table: pg_dump waits for the lock, neither succeeding nor failing.
    const holder = new pg.Client(withDatabase(testServerUrl(), SOURCE));
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('lock table t in access exclusive mode');
      const agent = startWatching(w, manifests, '--overdue-grace', '1s');
      const said = await agent.waitFor((l) => l.event === 'overdue', 30_000);
      assert.equal(said.definition, 'stuck');
      const doc = JSON.parse((await until('the overdue webhook', () => w.receiver.hooks[0], 30_000)).body);
      assert.deepEqual(
        [doc.event, doc.definition, doc.status, doc.runId],
        ['overdue', 'stuck', 'OVERDUE', null],
      );
      assert.match(String(doc.error), /^no successful dump yet; one was due by \d{4}-\d\d-\d\dT/);
      // Checked every second since: still one message for that due time.
      await sleep(4000);
      assert.equal(w.receiver.hooks.length, 1, 'said once per due time');
      assert.equal(agent.lines.filter((l) => l.event === 'overdue').length, 1);
      const status = await runCli(['--catalogue', w.catalogue.location, 'status', '--grace', '1s']);
      assert.equal(status.code, 1);
      assert.match(status.stdout, /^OVERDUE\s+stuck\s/m);
    } finally {
      await holder.end();
    }
    const agent = w.agent as AgentProcess;
    await agent.waitFor((l) => l.event === 'run_finished' && l.status === 'SUCCEEDED', 30_000);
    agent.signal('SIGTERM');
    assert.equal(await agent.exited, 0);
    w.agent = undefined;
  });
});

describe("a backup server's root directory running out of space reaches a person, once", () => {
  const w = scene('alerts-disk', 'alerts_disk_source');

  test('disk_low: below twice the diskReserve (here 99%: any disk) the server notify hears of it once, with how much is free', async () => {
    const manifests = join(w.dir, 'manifests');
    await mkdir(manifests, { recursive: true });
    const node = new URL(testServerUrl());
    await writeFile(
      join(manifests, 'setup.yaml'),
      localSetup({
        root: join(w.dir, 'root'),
        host: node.hostname,
        port: node.port,
        serverSpec: `diskReserve: "99%", notify: {webhooks: [{url: "http://127.0.0.1:${w.receiver.port}/hook"}], events: [disk_low]}`,
        definitions: {},
      }),
    );
    await mkdir(join(w.dir, 'root'), { recursive: true });
    const agent = startWatching(w, manifests, '--listen', '127.0.0.1:0');
    const logged = await agent.waitFor((l) => l.event === 'disk_low', 30_000);
    assert.equal(logged.root, join(w.dir, 'root'));
    const doc = JSON.parse((await until('the disk_low webhook', () => w.receiver.hooks[0], 30_000)).body);
    assert.deepEqual(
      [doc.event, doc.kind, doc.definition, doc.status, doc.errorCode],
      ['disk_low', 'BackupServer', 'local', 'DISK_LOW', 'DISK_LOW'],
    );
    assert.match(
      String(doc.error),
      new RegExp(
        `^\\d+\\.\\d GiB free of \\d+\\.\\d GiB under ${join(w.dir, 'root')}, below .* \\(twice its diskReserve of 99%`,
      ),
    );
    await sleep(2000);
    assert.equal(w.receiver.hooks.length, 1, 'said once while it stays low');
    // The metrics count what was sent, by channel, event and outcome.
    const address = agent.lines.find((l) => l.event === 'listening')?.address as string;
    const metrics = parsePromText(await (await fetch(`http://${address}/metrics`)).text());
    const [sent] = samplesOf(metrics, 'pgbackman_alerts_total', {
      channel: 'webhook',
      event: 'disk_low',
      outcome: 'sent',
    });
    assert.equal(sent?.value, 1);
    agent.signal('SIGTERM');
    assert.equal(await agent.exited, 0);
    w.agent = undefined;
  });
});

describe('a dump retention may not delete reaches a person, once', () => {
  const SOURCE = 'alerts_retention';
  const w = scene('alerts-retention', SOURCE);

  test('retention_blocked: an expired dump whose folder was swapped for a symlink is kept, and its definition notify hears why', async () => {
    const root = join(w.dir, 'root');
    const manifests = await writeManifests(w.dir, {
      aging: `database: ${SOURCE}, schedule: "0 0 1 1 *", retention: {period: 1d, redundancy: 1}, notify: {webhooks: [{url: "http://127.0.0.1:${w.receiver.port}/hook"}], events: [retention_blocked]}`,
    });
    // Two dumps: a recent one (kept) and one 40 days old, whose folder someone replaced by a link outside.
    const old = '0b1d0000-0000-4000-8000-000000000001';
    const dir = join(root, 'n1', SOURCE);
    const oldDir = join(dir, `20261020T000000Z-FULL-aging-${old.slice(0, 8)}`);
    const outside = join(w.dir, 'outside');
    await mkdir(dir, { recursive: true });
    await mkdir(outside);
    await writeFile(join(outside, 'database.dump'), 'not to be deleted');
    await symlink(outside, oldDir);
    await withClient(w.catalogue.location, (c) =>
      c.query(
        `insert into pgbackman.backup_runs (id, server, node, database, code, definition, status, started_at, finished_at, dump_path) values
           ($1, 'local', 'n1', $2, 'FULL', 'aging', 'SUCCEEDED', now() - interval '40 days', now() - interval '40 days', $3),
           (gen_random_uuid(), 'local', 'n1', $2, 'FULL', 'aging', 'SUCCEEDED', now() - interval '1 hour', now() - interval '1 hour', $4)`,
        [old, SOURCE, join(oldDir, 'database.dump'), join(dir, 'recent', 'database.dump')],
      ),
    );
    const agent = startWatching(w, manifests);
    const doc = JSON.parse(
      (await until('the retention_blocked webhook', () => w.receiver.hooks[0], 45_000)).body,
    );
    assert.deepEqual(
      [doc.event, doc.kind, doc.definition, doc.node, doc.runId, doc.status],
      ['retention_blocked', 'BackupDefinition', 'aging', 'n1', old, 'RETENTION_BLOCKED'],
    );
    assert.match(String(doc.error), /link/i);
    assert.equal(await readFile(join(outside, 'database.dump'), 'utf8'), 'not to be deleted');
    // The next sweep (after SIGHUP's reconcile, or the hour) would say it again: not while this agent runs.
    agent.signal('SIGHUP');
    await sleep(3000);
    assert.equal(w.receiver.hooks.length, 1);
    agent.signal('SIGTERM');
    assert.equal(await agent.exited, 0);
    w.agent = undefined;
  });
});
