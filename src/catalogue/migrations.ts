import { readdirSync, readFileSync } from 'node:fs';

export interface Migration {
  readonly id: number;
  readonly name: string;
  readonly sql: string;
}

const DIR = new URL('../../src/catalogue/migrations/', import.meta.url);

let cached: readonly Migration[] | undefined;

/** The numbered `NNNN_name.sql` files, in order. Shipped as SQL so a DBA can read exactly what runs. */
export function loadMigrations(): readonly Migration[] {
  cached ??= readdirSync(DIR)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f, i) => {
      const id = Number(f.slice(0, 4));
      if (id !== i + 1) throw new Error(`migration ${f} is out of sequence: expected number ${i + 1}`);
      return { id, name: f.slice(5, -4), sql: readFileSync(new URL(f, DIR), 'utf8') };
    });
  return cached;
}

export function latestVersion(): number {
  return loadMigrations().length;
}
