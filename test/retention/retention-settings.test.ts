import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DumpSettings } from '../../src/manifest/generated/manifest-types.ts';
import { resolveSettings } from '../../src/manifest/resolve-settings.ts';

const node = (defaults: DumpSettings) => ({ spec: { host: 'h', defaults } }) as never;
const server = (defaults: DumpSettings) =>
  ({ spec: { hostname: 'b', rootDirectory: '/x', defaults } }) as never;

test('retention: the definition, its node, its server, then 7d and 1; tiers replace the default period', () => {
  const cases: {
    name: string;
    own: DumpSettings;
    node?: DumpSettings;
    server?: DumpSettings;
    want: unknown;
  }[] = [
    { name: 'nothing set: 7d, 1', own: {}, want: { period: '7d', redundancy: 1 } },
    {
      name: 'the node sets the period, the server the redundancy',
      own: {},
      node: { retention: { period: '30d' } },
      server: { retention: { redundancy: 3 } },
      want: { period: '30d', redundancy: 3 },
    },
    {
      name: 'tiers only: no period at all',
      own: { retention: { keep: { daily: 7, weekly: 4 } } },
      want: { redundancy: 1, keep: { daily: 7, weekly: 4 } },
    },
    {
      name: 'tiers beside a period set on the server',
      own: { retention: { keep: { monthly: 12 } } },
      server: { retention: { period: '14d' } },
      want: { period: '14d', redundancy: 1, keep: { monthly: 12 } },
    },
    {
      name: "tiers are taken whole from the nearest layer, not merged with the node's",
      own: { retention: { keep: { daily: 3 } } },
      node: { retention: { keep: { weekly: 8 } } },
      want: { redundancy: 1, keep: { daily: 3 } },
    },
  ];
  for (const c of cases)
    assert.deepEqual(
      resolveSettings(c.own, node(c.node ?? {}), server(c.server ?? {})).retention,
      c.want,
      c.name,
    );
});
