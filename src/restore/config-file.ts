import { IDENT, quoteIdent, splitStatements, unquoteIdent } from './sql-text.ts';

/** A dump's database-level configuration (config.sql), rewritten for the database it is restored as. */
export interface DatabaseConfig {
  /** CREATE DATABASE first, then owner, settings, grants and comments, each naming the target. */
  readonly statements: readonly string[];
  /** Statements about the database that are not restored (kept for the dry run and the record). */
  readonly skipped: readonly string[];
}

// The statements pg_dump --create writes about the database itself; the database is the identifier after DATABASE.
const ABOUT_DATABASE = new RegExp(
  `^(CREATE DATABASE |ALTER DATABASE |COMMENT ON DATABASE |SECURITY LABEL (?:FOR ${IDENT} )?ON DATABASE |(?:GRANT|REVOKE) .+? ON DATABASE |ALTER ROLE ${IDENT} IN DATABASE )(${IDENT})([\\s;][\\s\\S]*)$`,
);

/** Pure: `sql` is config.sql as the dump wrote it; `source` the database it was taken from. */
export function readDatabaseConfig(sql: string, source: string, target: string): DatabaseConfig {
  const statements: string[] = [];
  const skipped: string[] = [];
  for (const statement of splitStatements(sql)) {
    const m = ABOUT_DATABASE.exec(statement);
    if (m === null) continue; // session settings (SET ...), the pg_toast schema pg_dump had to name
    if (unquoteIdent(m[2] as string) !== source) {
      skipped.push(statement);
      continue;
    }
    // CREATE DATABASE cannot run in a transaction with the others: it goes first, on its own.
    const rewritten = `${m[1]}${quoteIdent(target)}${m[3]}`;
    if (statement.startsWith('CREATE DATABASE ')) statements.unshift(rewritten);
    else statements.push(rewritten);
  }
  if (!statements[0]?.startsWith('CREATE DATABASE '))
    statements.unshift(`CREATE DATABASE ${quoteIdent(target)} TEMPLATE template0`);
  return { statements, skipped };
}
