import { hash } from 'node:crypto';

/** The annotation a generated definition carries: `BackupPolicy/<name>` of the policy that made it. */
export const GENERATED_BY = 'pgbackman.io/generated-by';

const MAX_NAME = 63;
const HASH_LENGTH = 8;

// Letters NFKD does not decompose into a base letter and a mark.
const SPELLED: Readonly<Record<string, string>> = {
  ø: 'o',
  æ: 'ae',
  œ: 'oe',
  ß: 'ss',
  đ: 'd',
  ð: 'd',
  ł: 'l',
  þ: 'th',
  ı: 'i',
};

/**
 * The name of the definition a policy generates for one database of one node: `<policy>-<node>-<database>`
 * reduced to a DNS-1123 label. When the reduction changed anything (case, characters, length), a short hash
 * of the three original names is appended, so `Shop_ø` and `shop-o` get different names; the result is at
 * most 63 characters either way. `alwaysHash` appends it anyway: for names that two databases would share
 * (`all-pg` on node `1` and `all` on node `pg-1`).
 */
export function generatedName(policy: string, node: string, database: string, alwaysHash = false): string {
  const raw = `${policy}-${node}-${database}`;
  const reduced = reduce(raw);
  if (!alwaysHash && reduced === raw && reduced.length <= MAX_NAME) return reduced;
  const suffix = hash('sha256', JSON.stringify([policy, node, database]), 'hex').slice(0, HASH_LENGTH);
  const head = reduced.slice(0, MAX_NAME - HASH_LENGTH - 1).replace(/-+$/, '');
  return head === '' ? suffix : `${head}-${suffix}`;
}

/** Lowercase a-z, 0-9 and single '-' between them: accents dropped, anything else a separator. */
function reduce(text: string): string {
  return text
    .toLowerCase()
    .replace(/[øæœßđðłþı]/g, (c) => SPELLED[c] ?? c)
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}
