import { assertNever, PgbackmanError } from '../errors.ts';

/** Where the catalogue is, as `--catalogue` or PGBACKMAN_CATALOGUE gave it. */
export type CatalogueLocation =
  | { readonly kind: 'url'; readonly url: string }
  | { readonly kind: 'keywords'; readonly params: Readonly<Record<string, string>> }
  | { readonly kind: 'embedded'; readonly dir: string };

// The libpq keywords a catalogue connection may use; any other is a typo worth refusing.
const KEYWORDS = new Set([
  'host',
  'hostaddr',
  'port',
  'dbname',
  'user',
  'password',
  'sslmode',
  'sslrootcert',
  'application_name',
  'connect_timeout',
]);

/**
 * `postgres://…` and `postgresql://…` URLs, libpq keyword/value strings (`host=db dbname=pgbackman`), or a
 * directory for the embedded catalogue. Any other scheme (`mysql://x`) is refused rather than taken for a
 * directory of that name.
 */
export function parseCatalogueLocation(text: string): CatalogueLocation {
  if (/^postgres(ql)?:\/\//i.test(text)) return { kind: 'url', url: text };
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text);
  if (scheme !== null && (text.includes('://') || !text.startsWith('/')))
    throw new PgbackmanError(
      'USAGE',
      `--catalogue: "${scheme[1]}:" is not a catalogue scheme; give postgres://… (or postgresql://…), libpq keywords such as "host=db dbname=pgbackman", or a directory for the embedded catalogue`,
    );
  if (/^\s*[A-Za-z_]+\s*=/.test(text)) return { kind: 'keywords', params: parseKeywords(text) };
  if (text.trim() === '') throw new PgbackmanError('USAGE', '--catalogue: an empty location');
  return { kind: 'embedded', dir: text };
}

/** libpq's keyword/value syntax: `key=value` pairs, values optionally single-quoted with \\ escapes. */
export function parseKeywords(text: string): Record<string, string> {
  const params: Record<string, string> = {};
  let i = 0;
  const fail = (why: string): never => {
    throw new PgbackmanError('USAGE', `--catalogue: ${why} in the connection string at character ${i + 1}`);
  };
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
  };
  while (true) {
    skipSpace();
    if (i >= text.length) break;
    const key = /^[A-Za-z_]+/.exec(text.slice(i))?.[0] ?? fail('a keyword is expected');
    i += key.length;
    skipSpace();
    if (text[i] !== '=') fail(`"=" is expected after "${key}"`);
    i++;
    skipSpace();
    let value = '';
    if (text[i] === "'") {
      i++;
      while (i < text.length && text[i] !== "'") {
        if (text[i] === '\\') i++;
        value += text[i] ?? '';
        i++;
      }
      if (text[i] !== "'") fail('an unterminated quoted value');
      i++;
    } else {
      while (i < text.length && !/\s/.test(text[i] as string)) {
        if (text[i] === '\\') i++;
        value += text[i] ?? '';
        i++;
      }
    }
    if (!KEYWORDS.has(key))
      throw new PgbackmanError(
        'USAGE',
        `--catalogue: unknown connection keyword "${key}"; one of ${[...KEYWORDS].join(', ')}`,
      );
    params[key] = value;
  }
  return params;
}

/** Safe to print: a URL's password, or a keyword string's, replaced by ***. */
export function describeLocation(location: CatalogueLocation): string {
  switch (location.kind) {
    case 'url':
      return redactUrl(location.url);
    case 'keywords':
      return Object.entries(location.params)
        .map(
          ([k, v]) =>
            `${k}=${k === 'password' ? '***' : /[\s'\\]/.test(v) || v === '' ? `'${v.replace(/[\\']/g, '\\$&')}'` : v}`,
        )
        .join(' ');
    case 'embedded':
      return location.dir;
    default:
      return assertNever(location, 'catalogue location');
  }
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}
