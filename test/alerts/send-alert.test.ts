import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AlertFacts } from '../../src/alerts/alert-message.ts';
import { alertSender } from '../../src/alerts/send-alert.ts';
import type { QueuedAlert } from '../../src/catalogue/alert-messages.ts';

const facts: AlertFacts = {
  event: 'failed',
  kind: 'BackupDefinition',
  definition: 'shop',
  server: 'b1',
  node: 'n1',
  database: 'shop',
  runId: null,
  status: 'FAILED',
  error: 'pg_dump exited 1',
  errorCode: 'DUMP_FAILED',
  logTail: null,
  durationMs: 1,
  at: '2026-12-04T12:00:00.000Z',
  statusUrl: null,
};

describe("a webhook's signing key is read only as the operator allows", () => {
  let dir: string;
  let secrets: string;
  let server: Server;
  let posts = 0;
  let url: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pgbackman-send-alert-'));
    secrets = join(dir, 'secrets');
    await mkdir(secrets, { mode: 0o700 });
    server = createServer((req, res) => {
      posts++;
      req.resume();
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const send = (secretFrom: QueuedAlert['secretFrom'], env: NodeJS.ProcessEnv = {}) =>
    alertSender({
      channels: {
        smtp: undefined,
        from: 'x@example.org',
        allowedWebhooks: [url.replace(/hook$/, '')],
        statusUrl: null,
      },
      env,
      secretsDir: secrets,
    }).send({ id: '1', channel: 'webhook', target: url, format: 'json', secretFrom, facts, attempts: 0 });

  const cases: { name: string; setup: () => Promise<QueuedAlert['secretFrom']>; refused: RegExp }[] = [
    {
      name: 'a key file others can read',
      setup: async () => {
        await writeFile(join(secrets, 'open.key'), 'k');
        await chmod(join(secrets, 'open.key'), 0o644);
        return { file: join(secrets, 'open.key') };
      },
      refused: /refusing the webhook's secret file .*open\.key/,
    },
    {
      name: 'a symlink from the secrets directory to a file outside it',
      setup: async () => {
        await writeFile(join(dir, 'outside.key'), 'k', { mode: 0o600 });
        await symlink(join(dir, 'outside.key'), join(secrets, 'link.key'));
        return { file: join(secrets, 'link.key') };
      },
      refused: /refusing the webhook's secret file .*link\.key/,
    },
    {
      name: 'a file outside the secrets directory',
      setup: async () => ({ file: '/etc/hostname' }),
      refused: /refusing the webhook's secret file \/etc\/hostname/,
    },
    {
      name: 'a variable that is not PGBACKMAN_SECRET_*',
      setup: async () => ({ env: 'HOME' }),
      refused: /only PGBACKMAN_SECRET_<NAME> variables/,
    },
  ];
  for (const c of cases)
    test(`${c.name}: refused for good, and nothing is posted`, async () => {
      const before = posts;
      const outcome = await send(await c.setup(), { HOME: '/root' });
      assert.equal(outcome.kind, 'terminal');
      assert.match((outcome as { error: string }).error, c.refused);
      assert.equal(posts, before);
    });

  test('a key file the agent alone reads signs the post', async () => {
    await writeFile(join(secrets, 'good.key'), 'k\n', { mode: 0o600 });
    const before = posts;
    assert.deepEqual(await send({ file: join(secrets, 'good.key') }), { kind: 'sent' });
    assert.equal(posts, before + 1);
  });
});
