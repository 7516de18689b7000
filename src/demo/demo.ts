import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import pg from 'pg';
import { Agent } from '../agent/agent.ts';
import { holdCatalogue } from '../agent/hold-catalogue.ts';
import { runDump } from '../backup/run-dump.ts';
import type { Logger } from '../observability/logger.ts';
import { dirSource } from '../source/dir-source.ts';
import { startThrowawayNode, type ThrowawayNode } from './throwaway-node.ts';

export interface DemoOptions {
  readonly stateDir: string;
  readonly logger: Logger;
  readonly version: string;
  /** Where the instructions go (stderr). */
  readonly say: (text: string) => void;
}

/**
 * `pgbackman demo`: a throwaway PostgreSQL node with a sample database, and an agent that dumps it every
 * 15 s into an embedded catalogue, until Ctrl-C, which stops both and removes the node.
 */
export async function runDemo(o: DemoOptions, stopped: Promise<string>): Promise<void> {
  const stateDir = resolve(o.stateDir);
  const manifests = join(stateDir, 'manifests');
  mkdirSync(manifests, { recursive: true, mode: 0o700 });
  o.say('► starting a throwaway PostgreSQL node with a sample database "shop"...\n');
  const node = await startThrowawayNode();
  try {
    await sampleDatabase(node);
    writeFileSync(join(manifests, 'demo.yaml'), demoManifests(node, join(stateDir, 'dumps')));
    const catalogue = join(stateDir, 'catalogue');
    process.env.PGBACKMAN_CACHE ||= join(stateDir, 'cache');
    const agent = new Agent({
      server: 'demo',
      location: catalogue,
      source: dirSource(manifests),
      sourceRoot: manifests,
      intervalMs: 60_000,
      graceMs: 30_000,
      apply: true,
      secretsDir: join(stateDir, 'secrets'),
      version: o.version,
      logger: o.logger,
      executor: runDump,
    });
    const held = await holdCatalogue(catalogue, o.logger);
    try {
      await agent.start();
      const shown = relative(process.cwd(), catalogue) || catalogue;
      o.say(
        [
          `✔ the agent runs: it dumps "shop" every 15 s (manifests in ${manifests}; edit them, it reapplies)`,
          '  In another shell, while it runs:',
          `    npx pgbackman --catalogue ${shown} get backups`,
          `    npx pgbackman --catalogue ${shown} status`,
          `    npx pgbackman --catalogue ${shown} get agents`,
          '  Ctrl-C stops the agent and removes the throwaway node (the catalogue and dumps stay in',
          `  ${stateDir}).`,
          '',
        ].join('\n'),
      );
      const signal = await stopped;
      await agent.stop(signal);
    } finally {
      await held?.close();
    }
  } finally {
    await node.stop();
    o.say('✔ the throwaway node is removed\n');
  }
}

async function sampleDatabase(node: ThrowawayNode): Promise<void> {
  const admin = new pg.Client({ host: node.host, port: node.port, user: 'postgres', database: 'postgres' });
  await admin.connect();
  await admin.query('create database shop');
  await admin.end();
  const shop = new pg.Client({ host: node.host, port: node.port, user: 'postgres', database: 'shop' });
  await shop.connect();
  await shop.query(`
    create table customers (id serial primary key, name text not null);
    create table orders (id serial primary key, customer int references customers, total numeric, at timestamptz default now());
    insert into customers (name) select 'customer ' || g from generate_series(1, 1000) g;
    insert into orders (customer, total) select 1 + g % 1000, g * 1.25 from generate_series(1, 20000) g;
  `);
  await shop.end();
}

function demoManifests(node: ThrowawayNode, root: string): string {
  const docs = [
    `kind: BackupServer\nmetadata: {name: demo}\nspec: {hostname: localhost, rootDirectory: ${JSON.stringify(root)}}`,
    `kind: PgSQLNode\nmetadata: {name: demo-node}\nspec: {host: ${node.host}, port: ${node.port}, user: postgres}`,
    'kind: BackupDefinition\nmetadata: {name: shop-every-15s}\nspec:\n  server: demo\n  node: demo-node\n  database: shop\n  schedule: "*/15 * * * * *"   # 6 fields: seconds first\n  retention: {period: 1d, redundancy: 3}',
  ];
  return docs.map((d) => `apiVersion: pgbackman.io/v1\n${d}\n`).join('---\n');
}
