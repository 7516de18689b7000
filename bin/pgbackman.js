#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` through `prepare`).
// `--version` is answered here, without loading the CLI: scripts call it often and it should cost no more than Node.
import { readFileSync } from 'node:fs';

const [flag, ...rest] = process.argv.slice(2);
if ((flag === '--version' || flag === '-V') && rest.length === 0) {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${pkg.version}\n`);
} else {
  // Node 21+ defines navigator; without it pg's runtime check builds a fetch Response, loading undici (~30 ms).
  if (globalThis.navigator === undefined)
    Object.defineProperty(globalThis, 'navigator', {
      value: { userAgent: `Node.js/${process.versions.node.split('.')[0]}` },
      configurable: true,
    });
  // The agent's memory policy is set before the CLI's modules load, while the young generation is still small;
  // a dump (`run`) streams the same garbage through it as the agent's dumps do.
  if (process.argv.includes('agent') || process.argv.includes('run'))
    (await import('../dist/agent/memory-policy.js')).applyAgentMemoryPolicy();
  const { main } = await import('../dist/cli/main.js');
  await main(process.argv);
}
