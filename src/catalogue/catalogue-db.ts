/** Something that runs SQL with `$1` parameters: a connection, or a transaction on one. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/** The catalogue's database, PostgreSQL or embedded, behind the one interface every command uses. */
export interface CatalogueDb extends Queryable {
  readonly kind: 'postgres' | 'embedded';
  /** Where it is, with any password removed: safe to print. */
  readonly location: string;
  /** Runs `fn` in one transaction: committed when it returns, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** Drops a network connection at once: what waits on it fails (a catalogue that stopped answering). */
  destroy?(): void;
}
