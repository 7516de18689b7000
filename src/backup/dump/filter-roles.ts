/**
 * Keeps the lines of `pg_dumpall --roles-only` that concern `roles`: their CREATE ROLE / ALTER ROLE
 * statements and the memberships granted to them. Pure, so it is tested on real pg_dumpall output.
 */
export function filterRoles(dump: string, roles: readonly string[]): string {
  const wanted = new Set(roles);
  const kept: string[] = [];
  for (const line of dump.split('\n')) {
    const create = /^(?:CREATE|ALTER) ROLE ("(?:[^"]|"")+"|[^\s;]+)/.exec(line);
    if (create !== null) {
      if (wanted.has(unquote(create[1] as string))) kept.push(line);
      continue;
    }
    const grant = /^GRANT ("(?:[^"]|"")+"|[^\s]+) TO ("(?:[^"]|"")+"|[^\s;]+)/.exec(line);
    if (grant !== null && wanted.has(unquote(grant[2] as string))) kept.push(line);
  }
  return kept.length === 0
    ? ''
    : `-- Roles needed by this database (from pg_dumpall --roles-only)\n${kept.join('\n')}\n`;
}

function unquote(identifier: string): string {
  return identifier.startsWith('"') ? identifier.slice(1, -1).replace(/""/g, '"') : identifier;
}
