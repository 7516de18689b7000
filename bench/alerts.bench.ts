// Issue 17's alert latency: "a failure's alert sent ≤ 5 s after the run ends". A real agent (its own process)
// whose definitions fail (their databases do not exist), a webhook receiver and an SMTP server in this
// process; each alert's arrival against pino's millisecond `time` of the run_finished line it is about.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { DB, DumpCluster, exec, NODE, SERVER } from './dump-databases.ts';
import { type BenchContext, type Benchmark, stats, target } from './harness.ts';
import { stopOnSignal } from './server-helpers.ts';

/** "A failure's alert sent ≤ 5 s after the run ends." */
const LATENCY_MS = 5_000;
/** Definitions that fail once each: one alert per channel each (the rest are held back by minInterval). */
const DEFINITIONS = 20;
const WAIT_MS = 120_000;

const ms = (v: number) => `${Math.round(v)} ms`;

const benchmark: Benchmark = {
  id: 'alerts',
  title: 'Alerts: from a failed run to its e-mail and webhook',

  async run(ctx: BenchContext) {
    const scratch = mkdtempSync(join(tmpdir(), 'pgbackman-bench-alerts-'));
    const watch = join(scratch, 'watch');
    mkdirSync(watch);
    const c = await DumpCluster.start('bench-alerts');
    const arrived = { webhook: new Map<string, number>(), email: new Map<string, number>() };
    const hooks = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => {
        body += d;
      });
      req.on('end', () => {
        const at = Date.now();
        const definition = (JSON.parse(body) as { definition?: string }).definition;
        if (definition !== undefined && !arrived.webhook.has(definition)) arrived.webhook.set(definition, at);
        res.end();
      });
    });
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, _session, done) {
        let raw = '';
        stream.on('data', (d: Buffer) => {
          raw += d;
        });
        stream.on('end', () => {
          const definition = /BackupDefinition\/(fails-\d+)/.exec(raw)?.[1];
          if (definition !== undefined && !arrived.email.has(definition))
            arrived.email.set(definition, Date.now());
          done();
        });
      },
    });
    let agent: ReturnType<typeof spawn> | undefined;
    const release = stopOnSignal(async () => {
      agent?.kill('SIGKILL');
      await c.stop();
      rmSync(scratch, { recursive: true, force: true });
    });
    try {
      await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
      await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
      const hookPort = (hooks.address() as AddressInfo).port;
      const smtpPort = (smtp.server.address() as AddressInfo).port;
      const catalogue = c.url(DB.catalogue);
      await c.sql(`create database ${DB.catalogue}`);
      await exec(
        process.execPath,
        ['bin/pgbackman.js', '--catalogue', catalogue, 'catalogue', 'migrate'],
        ctx.root,
      );
      const names = Array.from({ length: DEFINITIONS }, (_, i) => `fails-${String(i).padStart(2, '0')}`);
      writeFileSync(
        join(watch, 'bench.yaml'),
        [
          `kind: BackupServer\nmetadata: {name: ${SERVER}}\nspec: {hostname: localhost, rootDirectory: ${join(scratch, 'root')}, notify: {email: [dba@example.org], webhooks: [{url: "http://127.0.0.1:${hookPort}/hook"}]}}`,
          `kind: PgSQLNode\nmetadata: {name: ${NODE}}\nspec: {host: 127.0.0.1, port: ${c.cluster.port}, user: postgres}`,
          ...names.map(
            (n) =>
              `kind: BackupDefinition\nmetadata: {name: ${n}}\nspec: {server: ${SERVER}, node: ${NODE}, database: missing_${n.replace('-', '_')}, schedule: "* * * * * *"}`,
          ),
        ]
          .map((d) => `apiVersion: pgbackman.io/v1\n${d}\n`)
          .join('---\n'),
      );
      const argv = [
        'bin/pgbackman.js',
        '--catalogue',
        catalogue,
        'agent',
        '--server',
        SERVER,
        '--watch',
        watch,
        '--state-dir',
        join(scratch, 'state'),
        '--listen',
        'none',
        '--smtp',
        `smtp://127.0.0.1:${smtpPort}`,
        '--allow-webhook',
        `http://127.0.0.1:${hookPort}/`,
      ];
      ctx.log(
        `alerts: an agent with ${DEFINITIONS} failing definitions, a webhook receiver and an SMTP server`,
      );
      const { NODE_OPTIONS: _ignored, ...env } = process.env;
      agent = spawn(process.execPath, argv, { cwd: ctx.root, env: { ...env, NO_COLOR: '1' } });
      const failedAt = new Map<string, number>();
      let partial = '';
      agent.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          const l = JSON.parse(line) as {
            event?: string;
            status?: string;
            definition?: string;
            time?: string;
          };
          const name = l.definition?.replace('BackupDefinition/', '');
          if (
            l.event === 'run_finished' &&
            l.status === 'FAILED' &&
            name !== undefined &&
            !failedAt.has(name)
          )
            failedAt.set(name, Date.parse(l.time ?? ''));
        }
      });
      const until = Date.now() + WAIT_MS;
      while (arrived.webhook.size < DEFINITIONS || arrived.email.size < DEFINITIONS) {
        if (Date.now() > until) throw new Error(`alerts: not every alert arrived within ${WAIT_MS / 1000} s`);
        await new Promise((r) => setTimeout(r, 100));
      }
      agent.kill('SIGTERM');
      await new Promise((r) => agent?.once('exit', r));
      agent = undefined;

      // The floor: one POST of the same size from this process to the same receiver.
      const floor: number[] = [];
      for (let i = 0; i < DEFINITIONS; i++) {
        const t = performance.now();
        await (await fetch(`http://127.0.0.1:${hookPort}/floor`, { method: 'POST', body: '{}' })).text();
        floor.push(performance.now() - t);
      }
      const latency = (m: Map<string, number>) =>
        names.map((n) => (m.get(n) ?? Number.NaN) - (failedAt.get(n) ?? Number.NaN));
      const webhook = stats(latency(arrived.webhook));
      const email = stats(latency(arrived.email));
      const floorMs = stats(floor).median;
      return {
        about: [
          `A throwaway PostgreSQL 15 cluster holds the catalogue and is the node. One BackupServer with \`notify: {email: [dba@example.org], webhooks: [{url: http://127.0.0.1:PORT/hook}]}\` (default minInterval 30m), one PgSQLNode and ${DEFINITIONS} BackupDefinitions whose databases do not exist, all due every second (\`* * * * * *\`): each one's first run fails and raises one alert per channel (its later failures are held back by minInterval). **The agent** is \`pgbackman agent\` in its own process (\`--watch\`, \`--smtp smtp://127.0.0.1:PORT\`, \`--allow-webhook http://127.0.0.1:PORT/\`), its catalogue the cluster's; a webhook receiver (node:http) and an SMTP server (\`smtp-server\`) run in the benchmark's process. **Latency** is each alert's arrival (the receiver's clock when the POST body or the DATA ended) minus pino's millisecond \`time\` of the \`run_finished\` line of the failure it is about: queueing it in the catalogue (the spool file, the rate-limit query, the insert), the deliverer's claim, and the send. Statistics over the ${DEFINITIONS} definitions. **Floor**: one \`fetch\` POST from the benchmark's process to the same receiver, median of ${DEFINITIONS}.`,
          `Webhook: median ${ms(webhook.median)}, max ${ms(webhook.max)}; e-mail: median ${ms(email.median)}, max ${ms(email.max)}; floor ${ms(floorMs)}.`,
        ],
        reproduce: [
          'npm run bench -- alerts',
          '# by hand: an agent with --smtp and --allow-webhook, a definition whose database does not exist, and notify on its server',
        ],
        groups: [],
        ratios: [
          { name: 'failure → webhook, median / floor (one POST)', value: webhook.median / floorMs },
          { name: 'failure → e-mail, median / floor (one POST)', value: email.median / floorMs },
        ],
        targets: [
          target('failure → webhook received, slowest of the runs', webhook.max, LATENCY_MS, 'ms'),
          target('failure → e-mail received, slowest of the runs', email.max, LATENCY_MS, 'ms'),
        ],
      };
    } finally {
      release();
      agent?.kill('SIGKILL');
      hooks.close();
      smtp.close();
      ctx.log('alerts: stopping the throwaway PostgreSQL');
      await c.stop();
      rmSync(scratch, { recursive: true, force: true });
    }
  },
};

export default benchmark;
