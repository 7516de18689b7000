import { type AgentRow, agentState } from '../catalogue/agents.ts';
import { humanBytes } from '../cli/human-bytes.ts';
import { shortRevision } from '../report/short-revision.ts';
import type { StatsReport } from '../report/stats-report.ts';
import type { StatusEntry } from '../schedule/status-report.ts';
import type { UncoveredCheck } from './uncovered-check.ts';

/** Everything the status page shows: read from the catalogue and the disk, never a secret. */
export interface StatusPageData {
  readonly server: string;
  readonly at: string;
  readonly version: string;
  /** Seconds between the page's own refreshes. */
  readonly refreshSeconds: number;
  /** Sorted as the page lists them: what needs a person first. */
  readonly entries: readonly StatusEntry[];
  /** Per definition: the sizes of its last good dumps, oldest first (the small chart). */
  readonly sizes: ReadonlyMap<string, readonly number[]>;
  readonly recent: readonly RecentRun[];
  /** The failing definitions' last failures, with the end of what the tools said (redacted). */
  readonly failures: readonly { readonly definition: string; readonly at: string; readonly error: string }[];
  readonly disk: readonly DiskUse[];
  readonly agents: readonly AgentRow[];
  readonly stats: StatsReport;
  /** The live databases of this server's nodes that nothing backs up; null until first asked. */
  readonly uncovered?: UncoveredCheck | null;
}

export interface RecentRun {
  readonly id: string;
  readonly definition: string;
  readonly status: string;
  readonly startedAt: string;
  readonly durationMs: number | null;
  readonly bytes: number | null;
}

export interface DiskUse {
  readonly name: string;
  readonly where: string;
  /** What the file system holds and has free; null for a bucket (only what pgbackman put there is known). */
  readonly totalBytes: number | null;
  readonly freeBytes: number | null;
  /** What the kept dumps take there, as recorded. */
  readonly dumpBytes: number;
}

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
/** Every text from the catalogue goes through this: names and errors came from manifests and tools. */
export const esc = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);

const bytes = (n: number | null) => (n === null ? '-' : humanBytes(n));
const time = (iso: string | null) => (iso === null ? '-' : `${iso.slice(0, 16).replace('T', ' ')}Z`);
const seconds = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);

/** A bar per dump, scaled to the largest; described in words for a screen reader. */
export function sizeChart(sizes: readonly number[]): string {
  if (sizes.length === 0) return '<span class="none">-</span>';
  const max = Math.max(...sizes, 1);
  const w = 6;
  const bars = sizes
    .map((s, i) => {
      const h = Math.max(1, Math.round((s / max) * 20));
      return `<rect x="${i * w}" y="${20 - h}" width="${w - 1}" height="${h}"/>`;
    })
    .join('');
  const label =
    sizes.length === 1
      ? `the last dump's size, ${bytes(sizes[0] as number)}`
      : `last ${sizes.length} dump sizes, ${bytes(sizes[0] as number)} to ${bytes(sizes[sizes.length - 1] as number)}`;
  return `<svg class="chart" role="img" aria-label="${esc(label)}" width="${sizes.length * w}" height="20" viewBox="0 0 ${sizes.length * w} 20">${bars}</svg>`;
}

const RUN_CLASS: Readonly<Record<string, string>> = {
  SUCCEEDED: 'ok',
  SUCCEEDED_PARTIAL: 'warn',
  RUNNING: 'muted',
  FAILED: 'bad',
  MISSED: 'bad',
};

const STATE_CLASS: Readonly<Record<string, string>> = {
  OK: 'ok',
  OVERDUE: 'bad',
  FAILING: 'bad',
  NEVER: 'warn',
  SUSPENDED: 'muted',
};

function table(caption: string, headers: readonly string[], rows: readonly string[], empty: string): string {
  if (rows.length === 0) return `<p>${esc(empty)}</p>`;
  const head = headers.map((h) => `<th scope="col">${esc(h)}</th>`).join('');
  return `<table><caption>${esc(caption)}</caption><thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** Definitions per page: 20,000 rows are no page for a person, nor for a browser. */
export const PAGE_ROWS = 100;

/** Which page of the definitions to show: `?page=N`, 1 when absent or out of range. */
export function pageNumber(raw: string | null, total: number): number {
  const pages = Math.max(1, Math.ceil(total / PAGE_ROWS));
  const n = raw !== null && /^[1-9][0-9]{0,6}$/.test(raw) ? Number(raw) : 1;
  return Math.min(n, pages);
}

function pager(page: number, total: number): string {
  const pages = Math.max(1, Math.ceil(total / PAGE_ROWS));
  if (pages === 1) return '';
  const from = (page - 1) * PAGE_ROWS + 1;
  const to = Math.min(total, page * PAGE_ROWS);
  const link = (n: number, text: string, rel: string) =>
    `<a href="?page=${n}#definitions" rel="${rel}">${text}</a>`;
  return `<nav aria-label="Pages of definitions" class="pager"><span>Definitions ${from}-${to} of ${total} (page ${page} of ${pages})</span>${page > 1 ? link(page - 1, 'Previous page', 'prev') : ''}${page < pages ? link(page + 1, 'Next page', 'next') : ''}</nav>`;
}

function definitionRows(d: StatusPageData, page: number): string[] {
  return d.entries.slice((page - 1) * PAGE_ROWS, page * PAGE_ROWS).map((e) => {
    const verify = e.restoreTests === null ? '-' : `${e.restoreTests.state} ${time(e.restoreTests.testedAt)}`;
    const name = e.kind === 'BackupDefinition' ? e.name : `snapshot:${e.name}`;
    return `<tr><th scope="row">${esc(name)}</th><td><span class="state ${STATE_CLASS[e.state] ?? ''}">${e.state}</span></td><td>${esc(e.node)}</td><td>${esc(e.database ?? '(cluster)')}</td><td>${time(e.lastSuccess?.at ?? null)}</td><td>${bytes(e.lastSuccess?.bytes ?? null)}</td><td>${time(e.nextRunAt)}</td><td>${esc(verify)}</td><td>${sizeChart(d.sizes.get(e.name) ?? [])}</td></tr>`;
  });
}

const STYLE = `
body{font:15px/1.4 system-ui,sans-serif;margin:0;color:#1a1a1a;background:#fff}
header,main,footer{padding:0 1.5rem}header{background:#1d3557;color:#fff;padding:1rem 1.5rem}
h1{margin:0;font-size:1.4rem}h2{margin-top:2rem;font-size:1.15rem}nav a{color:#fff;margin-right:1rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border-bottom:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}thead th{background:#f0f0f0}
.state{font-weight:600;padding:0 .3rem;border-radius:3px}.ok{color:#0b5d1e;background:#e3f4e6}
.bad{color:#8a1010;background:#fde4e4}.warn{color:#6b4a00;background:#fdf2d0}.muted{color:#444;background:#eee}
.chart rect{fill:#1d3557}pre{white-space:pre-wrap;background:#f6f6f6;padding:.5rem;margin:.25rem 0}
.message{white-space:pre-line}.summary span{margin-right:1.25rem}.none{color:#555}.pager a{margin-left:1rem}`;

function uncoveredSection(u: UncoveredCheck | null): string {
  if (u === null)
    return '<p>The nodes have not been asked for their databases yet; this page will say at its next refresh.</p>';
  const failures = u.failures
    .map((f) => `<p role="alert">Node ${esc(f.node)} could not be asked: ${esc(f.message)}</p>`)
    .join('');
  const when = `asked at ${u.at.slice(0, 19)}Z`;
  if (u.databases.length === 0)
    return `<p>Every live database of the nodes this server dumps is backed up (${when}).</p>${failures}`;
  const shown = u.databases.slice(0, PAGE_ROWS);
  const more =
    u.databases.length > shown.length
      ? `<p>And ${u.databases.length - shown.length} more: <code>pgbackman get databases --uncovered</code> lists them all.</p>`
      : '';
  return `${table(
    `Live databases no definition or policy backs up (${when})`,
    ['Node', 'Database'],
    shown.map((r) => `<tr><td>${esc(r.node)}</td><th scope="row">${esc(r.database)}</th></tr>`),
    '',
  )}${more}${failures}`;
}

/** The whole page (one page of the definitions): server-rendered, readable without JavaScript. Pure. */
export function renderStatusPage(d: StatusPageData, page = 1): string {
  const s = d.stats;
  const summary = [
    `${s.definitions} definitions`,
    `${s.dumps.total} dumps kept (${bytes(s.dumps.bytes)})`,
    `${s.failures.last24h} ${s.failures.last24h === 1 ? 'failure' : 'failures'} in 24 h`,
    `${Math.floor(s.verify.coverage * 100)}% of good dumps verified`,
    `${s.verify.restoreTestedDefinitions} with restore tests`,
  ]
    .map((t) => `<span>${esc(t)}</span>`)
    .join('');
  const counts = new Map<string, number>();
  for (const e of d.entries) counts.set(e.state, (counts.get(e.state) ?? 0) + 1);
  const states = [...counts].map(([state, n]) => `<span>${n} ${esc(state)}</span>`).join('');
  const recent = d.recent.map(
    (r) =>
      `<tr><td>${esc(r.id.slice(0, 8))}</td><th scope="row">${esc(r.definition)}</th><td><span class="state ${RUN_CLASS[r.status.split(' ')[0] as string] ?? ''}">${esc(r.status)}</span></td><td>${time(r.startedAt)}</td><td>${seconds(r.durationMs)}</td><td>${bytes(r.bytes)}</td></tr>`,
  );
  const failures = d.failures.map(
    (f) => `<h3>${esc(f.definition)} <small>${time(f.at)}</small></h3><pre>${esc(f.error)}</pre>`,
  );
  const disk = d.disk.map(
    (u) =>
      `<tr><th scope="row">${esc(u.name)}</th><td>${esc(u.where)}</td><td>${bytes(u.dumpBytes)}</td><td>${bytes(u.freeBytes)}</td><td>${bytes(u.totalBytes)}</td></tr>`,
  );
  const agents = d.agents.map((a) => {
    const ready = a.conditions.find((c) => c.type === 'Ready');
    const state = agentState(a, new Date(d.at));
    const tone = state === 'Ready' ? 'ok' : state === 'Reconciling' || state === 'Starting' ? 'warn' : 'bad';
    return `<tr><th scope="row">${esc(a.server)}</th><td>${esc(a.host)}</td><td>${esc(a.version)}</td><td>${esc(shortRevision(a.lastAppliedRevision))}</td><td><span class="state ${tone}">${esc(state)}</span> <span class="message">${esc(shortRevision(ready?.message ?? ''))}</span></td><td>${time(a.heartbeatAt)}</td></tr>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${d.refreshSeconds}"><title>pgbackman: ${esc(d.server)}</title><style>${STYLE}</style></head>
<body><header><h1>pgbackman on ${esc(d.server)}</h1><nav aria-label="Sections"><a href="#definitions">Definitions</a><a href="#uncovered">Not covered</a><a href="#runs">Recent runs</a><a href="#failures">Failures</a><a href="#disk">Disk</a><a href="#agents">Agents</a></nav></header>
<main>
<p class="summary">${summary}</p><p class="summary">${states}</p>
<section id="definitions" aria-labelledby="h-definitions"><h2 id="h-definitions">Definitions</h2>
${pager(page, d.entries.length)}${table('What is covered: each definition, its last good dump, next run, restore tests and dump sizes; what needs a person first', ['Definition', 'State', 'Node', 'Database', 'Last success', 'Size', 'Next run', 'Restore test', 'Sizes'], definitionRows(d, page), 'No definitions on this server.')}</section>
<section id="uncovered" aria-labelledby="h-uncovered"><h2 id="h-uncovered">Not covered</h2>
${uncoveredSection(d.uncovered ?? null)}</section>
<section id="runs" aria-labelledby="h-runs"><h2 id="h-runs">Recent runs</h2>
${table('The latest runs, newest first', ['Run', 'Definition', 'Status', 'Started', 'Duration', 'Size'], recent, 'No runs yet.')}</section>
<section id="failures" aria-labelledby="h-failures"><h2 id="h-failures">Failures</h2>
${failures.length === 0 ? '<p>No definition is failing.</p>' : failures.join('')}</section>
<section id="disk" aria-labelledby="h-disk"><h2 id="h-disk">Disk use</h2>
${table('Where the dumps are kept', ['Destination', 'Where', 'Used by dumps', 'Free', 'Size of the file system'], disk, 'No destinations.')}</section>
<section id="agents" aria-labelledby="h-agents"><h2 id="h-agents">Agents</h2>
${table('The agents and the revision each applied', ['Server', 'Host', 'Version', 'Revision', 'Condition', 'Last heartbeat'], agents, 'No agents.')}</section>
</main>
<footer><p>pgbackman ${esc(d.version)} · data as of ${d.at.slice(0, 19)}Z · refreshes every ${d.refreshSeconds} s · read-only</p></footer>
</body></html>
`;
}
