import { IDENT, quoteIdent, splitStatements, unquoteIdent } from './sql-text.ts';

/** The roles a dump's roles.sql declares: each role's own statements, and the memberships granted to them. */
export interface RolesFile {
  readonly roles: readonly string[];
  readonly statementsOf: ReadonlyMap<string, readonly string[]>;
  readonly grants: readonly { readonly role: string; readonly member: string }[];
}

const ROLE_STATEMENT = new RegExp(`^(?:CREATE|ALTER) ROLE (${IDENT})`);
const GRANT = new RegExp(`^GRANT (${IDENT}) TO (${IDENT})`);

/** Reads roles.sql as pgbackman wrote it (filtered pg_dumpall --roles-only). Pure. */
export function readRolesFile(sql: string): RolesFile {
  const statementsOf = new Map<string, string[]>();
  const grants: { role: string; member: string }[] = [];
  for (const statement of splitStatements(sql)) {
    const own = ROLE_STATEMENT.exec(statement);
    if (own !== null) {
      const role = unquoteIdent(own[1] as string);
      statementsOf.set(role, [...(statementsOf.get(role) ?? []), statement]);
      continue;
    }
    const grant = GRANT.exec(statement);
    if (grant !== null)
      grants.push({ role: unquoteIdent(grant[1] as string), member: unquoteIdent(grant[2] as string) });
  }
  return { roles: [...statementsOf.keys()], statementsOf, grants };
}

/**
 * The statements that create the roles the target lacks, as the dump declared them (attributes, password
 * hash, settings), then their memberships; roles the target has are left exactly as they are.
 */
export function createMissingRoles(file: RolesFile, present: ReadonlySet<string>): string[] {
  const missing = file.roles.filter((r) => !present.has(r));
  const creating = new Set(missing);
  const statements = missing.flatMap((r) => file.statementsOf.get(r) ?? []);
  // Only memberships of a role created now: an existing role's memberships are the target's business.
  // GRANTED BY is left out, as its grantor may not exist on the target.
  for (const g of file.grants)
    if (creating.has(g.member)) statements.push(`GRANT ${quoteIdent(g.role)} TO ${quoteIdent(g.member)}`);
  return statements;
}
