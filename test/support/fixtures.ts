/** Small valid manifests that tests combine and then break one field at a time. */
export const SERVER = `apiVersion: pgbackman.io/v1
kind: BackupServer
metadata:
  name: backup01
spec:
  hostname: backup01.example.com
`;

export const NODE = `apiVersion: pgbackman.io/v1
kind: PgSQLNode
metadata:
  name: pg01
  labels: { env: prod }
spec:
  host: pg01.example.com
`;

export function definition(name: string, spec = 'database: shop\n  schedule: "30 2 * * *"'): string {
  return `apiVersion: pgbackman.io/v1
kind: BackupDefinition
metadata:
  name: ${name}
spec:
  server: backup01
  node: pg01
  ${spec}
`;
}

export const BASE = { 'servers.yaml': SERVER, 'nodes.yaml': NODE };

/**
 * Manifests for dumping for real: a server `local` whose root is `root`, a node `n1` (or `nodeName`) at
 * host:port with `nodeSpec` added, and one BackupDefinition per entry of `definitions` (name → flow-style spec).
 */
export function localSetup(o: {
  root: string;
  host: string;
  port: number | string;
  definitions: Record<string, string>;
  nodeName?: string;
  nodeSpec?: string;
  /** More of the server's spec, flow style (`storage: [...]`). */
  serverSpec?: string;
}): string {
  const node = o.nodeName ?? 'n1';
  const docs = [
    `kind: BackupServer\nmetadata: {name: local}\nspec: {hostname: localhost, rootDirectory: ${JSON.stringify(o.root)}${o.serverSpec ? `, ${o.serverSpec}` : ''}}`,
    `kind: PgSQLNode\nmetadata: {name: ${node}}\nspec: {host: ${o.host}, port: ${o.port}${o.nodeSpec ? `, ${o.nodeSpec}` : ''}}`,
    ...Object.entries(o.definitions).map(
      ([name, spec]) =>
        `kind: BackupDefinition\nmetadata: {name: ${name}}\nspec: {server: local, node: ${node}, ${spec}}`,
    ),
  ];
  return docs.map((d) => `apiVersion: pgbackman.io/v1\n${d}\n`).join('---\n');
}
