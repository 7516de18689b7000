import { redactUrl } from '../catalogue/catalogue-location.ts';

const SECRET_KEYS = ['password', 'PGPASSWORD', 'token', 'secret', 'authorization', 'credentials', 'apiKey'];

/**
 * pino `redact` paths: the secret keys at the top of a line and up to two objects down, every variable of
 * an `env` object, and HTTP authorization headers. Fixed here, never taken from input (pino's advice).
 */
export const REDACT_PATHS: readonly string[] = [
  ...SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
  'env.*',
  '*.env.*',
  'headers.authorization',
  '*.headers.authorization',
];

export const REDACT_CENSOR = '[Redacted]';

// A URL up to the end of its token; it stops at a JSON string's quote or escape, so it stays in one value.
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>\\]+/gi;
// libpq keyword/value (`password=…`, quoted or not), PGPASSWORD=…, and `?password=…` in a URL's query.
const KEYWORD_IN_TEXT =
  /\b(\w*(?:password|passwd|secret|token))(\s*=\s*)('(?:\\.|[^'\\])*'|(?:\\.|[^\s"'\\&])+)/gi;
// A token given as the user name of an http(s) URL (`https://ghp_…@github.com`): git accepts it as a password.
const TOKEN_AS_USER = /^(https?:\/\/)[^:@/?#\s]+@/i;

/** Text safe to log: passwords in URLs (`postgres://u:***@h`) and in conninfo keywords (`password=***`) hidden. */
export function redactSecrets(text: string): string {
  let out = text;
  if (out.includes('://'))
    out = out.replace(URL_IN_TEXT, (url) => {
      if (!url.includes('@')) return url;
      const redacted = redactUrl(url);
      return redacted === url ? url.replace(TOKEN_AS_USER, '$1***@') : redacted;
    });
  return out.replace(KEYWORD_IN_TEXT, '$1$2***');
}

/** A pino destination that scrubs every finished line (message, fields, bindings, error stacks) before `inner`. */
export function redactingDestination(inner: { write(line: string): unknown }): { write(line: string): void } {
  return {
    write(line: string) {
      inner.write(redactSecrets(line));
    },
  };
}
