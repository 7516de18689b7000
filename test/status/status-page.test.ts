import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { authorized } from '../../src/status/page-auth.ts';
import { esc, pageNumber, renderStatusPage, sizeChart } from '../../src/status/render-status-page.ts';
import { type AgentProcess, startAgent, watchingAgentArgs } from '../support/agent-process.ts';
import { createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { localSetup } from '../support/fixtures.ts';
import { REPO_ROOT } from '../support/run-cli.ts';
import { createSourceDatabase, testServerUrl } from '../support/test-database.ts';

const TOKEN = 'status-page-token-7f3a';
const NODE_SECRET = 'node-password-never-shown-91c2';
/** Debian's chromium, which .ci/run installs; playwright-core drives it (it downloads no browser). */
const CHROMIUM = process.env.PGBACKMAN_TEST_CHROMIUM ?? '/usr/bin/chromium';
/** Where the screenshot is kept for a person to look at (ignored by git). */
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');

/** WCAG's contrast ratio of two `rgb(r, g, b)` colours. */
function contrast(a: string, b: string): number {
  const lum = (c: string) => {
    const [r, g, bl] = (c.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((v) => {
      const x = Number(v) / 255;
      return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (bl ?? 0);
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return ((hi ?? 0) + 0.05) / ((lo ?? 0) + 0.05);
}

test('who may see the page: no token, a bearer token, or the token as a Basic password', () => {
  const basic = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const cases: [string | undefined, string | undefined, boolean][] = [
    [undefined, undefined, true],
    [undefined, 't0k', false],
    ['Bearer t0k', 't0k', true],
    ['bearer t0k', 't0k', true],
    ['Bearer t0kk', 't0k', false],
    ['Bearer ', 't0k', false],
    [basic('ops', 't0k'), 't0k', true],
    [basic('anyone', 't0k'), 't0k', true],
    [basic('ops', 'nope'), 't0k', false],
    ['Basic !!!', 't0k', false],
    ['Digest t0k', 't0k', false],
  ];
  for (const [header, token, ok] of cases) assert.equal(authorized(header, token), ok, `${header} ${token}`);
});

test('what the catalogue and the tools say is escaped; a chart describes itself', () => {
  assert.equal(
    esc(`<script>alert("x")</script> & 'y'`),
    '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;',
  );
  assert.match(
    sizeChart([1024, 2048]),
    /^<svg class="chart" role="img" aria-label="last 2 dump sizes, 1\.0 KiB to 2\.0 KiB"/,
  );
  assert.equal(sizeChart([]), '<span class="none">-</span>');
});

test('a page of 100 definitions at a time, what needs a person first; a page out of range is the last', () => {
  const entry = (i: number) => ({
    kind: 'BackupDefinition' as const,
    name: `d${String(i).padStart(3, '0')}`,
    server: 's',
    node: 'n',
    database: 'db',
    state: 'OK' as const,
    lastSuccess: null,
    lastFailure: null,
    nextRunAt: null,
    dueBy: null,
    schedule: { at: '2026-01-01T00:00:00Z' },
    suspended: null,
    restoreTests: null,
  });
  const zero = { last24h: 0, last7d: 0 };
  const data = {
    server: 's',
    at: '2026-12-04T12:00:00.000Z',
    version: 'v',
    refreshSeconds: 30,
    entries: Array.from({ length: 250 }, (_, i) => entry(i)),
    sizes: new Map(),
    recent: [],
    failures: [],
    disk: [],
    agents: [],
    stats: {
      scope: { server: 's', node: null },
      at: '',
      servers: 1,
      nodes: 1,
      definitions: 250,
      suspendedDefinitions: 0,
      snapshots: 0,
      dumps: {
        total: 0,
        byStatus: { RUNNING: 0, SUCCEEDED: 0, SUCCEEDED_PARTIAL: 0, FAILED: 0, MISSED: 0 },
        bytes: 0,
        oldest: null,
        newest: null,
      },
      perNode: [],
      perServer: [],
      failures: zero,
      missed: zero,
      verify: {
        definitions: 250,
        restoreTestedDefinitions: 0,
        goodDumps: 0,
        hashVerified: 0,
        restoreTested: 0,
        coverage: 1,
      },
    },
  };
  const rows = (html: string) =>
    [...html.matchAll(/<th scope="row">(d\d+)<\/th><td><span class="state/g)].map((m) => m[1]);
  const first = renderStatusPage(data, pageNumber(null, 250));
  assert.deepEqual([rows(first).length, rows(first)[0]], [100, 'd000']);
  assert.match(
    first,
    /Definitions 1-100 of 250 \(page 1 of 3\)<\/span><a href="\?page=2#definitions" rel="next">Next page<\/a>/,
  );
  const last = renderStatusPage(data, pageNumber('99', 250));
  assert.deepEqual([rows(last).length, rows(last)[0]], [50, 'd200']);
  assert.match(last, /rel="prev">Previous page<\/a><\/nav>/);
  assert.equal(pageNumber('-1', 250), 1);
  assert.equal(pageNumber('2abc', 250), 1);
});

describe('the status page, served by a real agent, read in a real browser', () => {
  const DB = 'status_page_source';
  const FORGOTTEN = 'status_page_forgotten';
  let catalogue: TestCatalogue;
  let dir: string;
  let agent: AgentProcess | undefined;
  let base: string;

  before(async () => {
    catalogue = await createTestCatalogue('postgres', 'status-page');
    dir = await mkdtemp(join(tmpdir(), 'pgbackman-status-page-'));
    await createSourceDatabase(DB);
    // A database on the same node that no definition backs up: the page must say so.
    await createSourceDatabase(FORGOTTEN);
    const node = new URL(testServerUrl());
    const manifests = join(dir, 'manifests');
    await mkdir(manifests, { recursive: true });
    await writeFile(
      join(manifests, 'setup.yaml'),
      localSetup({
        root: join(dir, 'root'),
        host: node.hostname,
        port: node.port,
        nodeSpec: 'passwordFrom: {env: PGBACKMAN_SECRET_NODE_PW}',
        definitions: {
          good: `database: ${DB}, schedule: "*/2 * * * * *"`,
          // Its database does not exist: each run fails, and pg_dump's words end up on the page, escaped.
          broken: `database: 'no''such"db', schedule: "*/2 * * * * *"`,
        },
      }),
    );
    agent = startAgent(
      watchingAgentArgs(catalogue.location, manifests, join(dir, 'state'), '--listen', '127.0.0.1:0'),
      { PGBACKMAN_STATUS_TOKEN: TOKEN, PGBACKMAN_SECRET_NODE_PW: NODE_SECRET },
    );
    const listening = await agent.waitFor((l) => l.event === 'listening');
    base = `http://${listening.address as string}`;
    await agent.waitFor((l) => l.event === 'run_finished' && l.status === 'SUCCEEDED', 45_000);
    await agent.waitFor((l) => l.event === 'run_finished' && l.status === 'FAILED', 45_000);
  });
  after(async () => {
    agent?.signal('SIGKILL');
    await catalogue?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  test('without the token the page is refused; the probes stay open', async () => {
    const refused = await fetch(`${base}/`);
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate') ?? '', /^Basic realm="pgbackman"/);
    assert.ok(!(await refused.text()).includes('good'));
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
  });

  test('with it: definitions, last results, failures with their words escaped, disk and agents; no secret, no script', async () => {
    const r = await fetch(`${base}/`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    const html = await r.text();
    assert.match(html, /<th scope="row">good<\/th><td><span class="state ok">OK<\/span>/);
    assert.match(html, /<th scope="row">broken<\/th><td><span class="state bad">FAILING<\/span>/);
    assert.match(html, /<pre>[^<]*no&#39;such&quot;db/, 'the failure, escaped');
    assert.ok(!html.includes(`no'such"db`));
    assert.ok(!html.includes(NODE_SECRET) && !html.includes(TOKEN), 'no secret on the page');
    assert.ok(!/<script/i.test(html), 'no JavaScript');
    assert.match(html, /<meta http-equiv="refresh" content="30">/);
    assert.match(html, /<th scope="row">root<\/th><td>[^<]*\/root<\/td>/);
    assert.match(
      html,
      /<th scope="row">local<\/th><td>[^<]+<\/td><td>[^<]+<\/td><td>sha256:[0-9a-f]+<\/td>/,
      'the agent and its revision',
    );
  });

  test('what is not covered: a live database of the node no definition backs up is listed; a covered one is not', async () => {
    const section = async () => {
      const html = await (await fetch(`${base}/`, { headers: { Authorization: `Bearer ${TOKEN}` } })).text();
      return /<section id="uncovered"[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';
    };
    let found = await section();
    for (let i = 0; i < 40 && !found.includes('<table>'); i++) {
      await new Promise((r) => setTimeout(r, 250));
      found = await section();
    }
    assert.match(
      found,
      /<caption>Live databases no definition or policy backs up \(asked at \S+Z\)<\/caption>/,
    );
    assert.match(found, new RegExp(`<tr><td>n1</td><th scope="row">${FORGOTTEN}</th></tr>`));
    assert.ok(!found.includes(`>${DB}<`), 'the covered database is not listed');
  });

  test('in headless Chromium without JavaScript: landmarks, headed tables, readable; a screenshot is kept', async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (.ci/run does)`);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const context = await browser.newContext({
        javaScriptEnabled: false,
        httpCredentials: { username: 'ops', password: TOKEN },
        viewport: { width: 1280, height: 900 },
      });
      const page = await context.newPage();
      const response = await page.goto(`${base}/`);
      assert.equal(response?.status(), 200);
      assert.equal(await page.title(), 'pgbackman: local');
      assert.equal(await page.getByRole('main').count(), 1);
      assert.equal(await page.getByRole('navigation', { name: 'Sections' }).count(), 1);
      assert.equal(await page.getByRole('heading', { level: 2 }).count(), 6);
      const definitions = page.getByRole('table', { name: /What is covered/ });
      assert.deepEqual(await definitions.getByRole('columnheader').allInnerTexts(), [
        'Definition',
        'State',
        'Node',
        'Database',
        'Last success',
        'Size',
        'Next run',
        'Restore test',
        'Sizes',
      ]);
      assert.equal(await definitions.getByRole('rowheader', { name: 'good' }).count(), 1);
      assert.equal(
        await page
          .getByRole('img', { name: /dump('s)? sizes?/ })
          .first()
          .count(),
        1,
      );
      assert.match((await page.locator('#failures pre').first().textContent()) ?? '', /no'such"db/);
      // Text against its background, as the browser computed them: WCAG AA asks 4.5:1 of normal text.
      const scripted = await browser.newContext({ httpCredentials: { username: 'ops', password: TOKEN } });
      const check = await scripted.newPage();
      await check.goto(`${base}/`);
      // Plain JavaScript, run in the page (the test loader would wrap a function with helpers the page lacks).
      const pairs =
        (await check.evaluate(`[...document.querySelectorAll('.state, header h1, header a, th, td, footer p')]
        .map((el) => {
          let bg = 'rgb(255, 255, 255)';
          for (let n = el; n !== null; n = n.parentElement) {
            const c = getComputedStyle(n).backgroundColor;
            if (c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') { bg = c; break; }
          }
          return [getComputedStyle(el).color, bg, el.textContent];
        })`)) as [string, string, string][];
      assert.ok(pairs.length > 20, `${pairs.length} elements checked`);
      await scripted.close();
      for (const [fg, bg, text] of pairs)
        assert.ok(contrast(fg as string, bg as string) >= 4.5, `${text}: ${fg} on ${bg}`);
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'status-page.png'), fullPage: true });
      assert.ok(existsSync(join(ARTIFACTS, 'status-page.png')));
    } finally {
      await browser.close();
    }
  });
});
