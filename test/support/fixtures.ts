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
