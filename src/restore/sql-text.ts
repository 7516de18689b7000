/** A double-quoted SQL identifier, always quoted: a database or role name is never read as SQL. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A standard-conforming string literal (standard_conforming_strings on, the default since 9.1). */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** An identifier as pg_dump writes it: `"Shop DB"` or `shop`, back to the name. */
export function unquoteIdent(identifier: string): string {
  return identifier.startsWith('"') ? identifier.slice(1, -1).replaceAll('""', '"') : identifier;
}

/** One identifier as pg_dump prints it: bare, or double-quoted with "" inside. */
export const IDENT = String.raw`(?:"(?:[^"]|"")+"|[^\s;"]+)`;

/**
 * The statements of a pg_dump or pg_dumpall script: psql meta-commands (`\connect`, `\restrict`) and
 * comments are left out; a statement ends at a `;` outside quotes, so a comment with a newline stays whole.
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let current = '';
  let quote: "'" | '"' | undefined;
  for (const line of sql.split('\n')) {
    if (quote === undefined && current === '' && (line.startsWith('\\') || line.startsWith('--'))) continue;
    for (const ch of line) {
      current += ch;
      if (quote !== undefined) {
        if (ch === quote) quote = undefined; // a doubled quote closes and reopens: the same result
      } else if (ch === "'" || ch === '"') quote = ch;
      else if (ch === ';') {
        const statement = current.trim();
        if (statement !== ';') out.push(statement);
        current = '';
      }
    }
    current += '\n';
    if (quote === undefined && current.trim() === '') current = '';
  }
  return out;
}
