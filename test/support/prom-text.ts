// A strict reader of Prometheus' text exposition (0.0.4), for tests: it fails on any line it cannot read.
import assert from 'node:assert/strict';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly type: string;
  readonly help: string;
  readonly samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
// The 0.0.4 format spells not-a-number `Nan` (Go's ParseFloat reads any case); prom-client writes that.
const SAMPLE = new RegExp(
  `^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?\\})? (NaN|Nan|[+-]Inf|-?\\d+(?:\\.\\d+)?(?:e[+-]?\\d+)?)(?: -?\\d+)?$`,
);
const COMMENT = new RegExp(`^# (HELP|TYPE) (${NAME}) (.*)$`);
const SUFFIXES: Record<string, string[]> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count'],
};

/** Every family of the exposition by name; each sample belongs to a family with # HELP and # TYPE before it. */
export function parsePromText(text: string): Map<string, Family> {
  const families = new Map<string, { type?: string; help?: string; samples: Sample[] }>();
  const family = (name: string) => {
    const f = families.get(name) ?? { samples: [] };
    families.set(name, f);
    return f;
  };
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  for (const line of text.slice(0, -1).split('\n')) {
    // The format ignores empty lines; prom-client puts one between families.
    if (line === '') continue;
    const comment = COMMENT.exec(line);
    if (comment !== null) {
      const [, what, name, rest] = comment as unknown as [string, string, string, string];
      if (what === 'TYPE') assert.match(rest, /^(counter|gauge|histogram|summary|untyped)$/, line);
      family(name)[what === 'TYPE' ? 'type' : 'help'] = rest;
      continue;
    }
    assert.ok(!line.startsWith('#') || line.startsWith('# '), `a comment: ${line}`);
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    assert.ok(m !== null, `not a sample line: ${JSON.stringify(line)}`);
    const [, name, labelText, value] = m as unknown as [string, string, string | undefined, string];
    const owner = [...families.entries()].find(
      ([base, f]) => base === name || (SUFFIXES[f.type ?? '']?.some((s) => base + s === name) ?? false),
    );
    assert.ok(owner !== undefined, `${name} has no # HELP / # TYPE before it`);
    assert.ok(owner[1].help !== undefined && owner[1].type !== undefined, `${owner[0]}: # HELP and # TYPE`);
    const labels = Object.fromEntries(
      [...(labelText ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [
        l[1],
        l[2],
      ]),
    );
    owner[1].samples.push({
      name,
      labels,
      value: Number(value.replace('Inf', 'Infinity').replace('Nan', 'NaN')),
    });
  }
  return families as Map<string, Family>;
}

/** The samples of one family whose labels include `where`. */
export function samplesOf(
  families: Map<string, Family>,
  name: string,
  where: Record<string, string> = {},
): Sample[] {
  const f = families.get(name);
  assert.ok(f !== undefined, `no family ${name}`);
  return f.samples.filter((s) => Object.entries(where).every(([k, v]) => s.labels[k] === v));
}
