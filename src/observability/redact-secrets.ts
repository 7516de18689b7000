import { redactUrl } from '../catalogue/catalogue-location.ts';

/**
 * pino `redact` paths: secret keys at the top of a line and every variable of a top-level `env`, whatever
 * their value's type. Fixed here, never taken from input (pino's advice). Wildcard paths (`*.password`)
 * made each line 5-10 times slower, so deeper keys are caught by redactSecrets on the finished line.
 */
export const REDACT_PATHS: readonly string[] = [
  'password',
  'PGPASSWORD',
  'token',
  'secret',
  'authorization',
  'credentials',
  'apiKey',
  'env.*',
];

export const REDACT_CENSOR = '[Redacted]';

const STRING = '"(?:[^"\\\\]|\\\\.)*"';
// A JSON string under a secret-sounding key, at any depth (`"password":"…"`, `"PGPASSWORD":…`, `"accessToken":…`).
const SECRET_KEY = new RegExp(
  `"(\\w*(?:password|passwd|secret|token|authorization|credentials|apiKey))":${STRING}`,
  'gi',
);
// An `env` object of strings at any depth: every value may be a secret.
const ENV_OBJECT = new RegExp(`"env":\\{(?:${STRING}:${STRING},?)*\\}`, 'g');
const ENV_VALUE = new RegExp(`:${STRING}`, 'g');
// A URL up to the end of its token; it stops at a JSON string's quote or escape, so it stays in one value.
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>\\]+/gi;
// libpq keyword/value (`password=…`, quoted or not), PGPASSWORD=…, and `?password=…` in a URL's query.
const KEYWORD_IN_TEXT =
  /\b(\w*(?:password|passwd|secret|token))(\s*=\s*)('(?:\\.|[^'\\])*'|(?:\\.|[^\s"'\\&])+)/gi;
// One scan for the words both rules below need: most lines have none and skip them.
const SECRET_WORD = /passw|secret|token|authorization|credentials|apikey/i;
// A token given as the user name of an http(s) URL (`https://ghp_…@github.com`): git accepts it as a password.
const TOKEN_AS_USER = /^(https?:\/\/)[^:@/?#\s]+@/i;

/**
 * Text safe to log: passwords in URLs (`postgres://u:***@h`) and conninfo keywords (`password=***`)
 * hidden; in a JSON line, also string values of secret keys and of `env` objects at any depth.
 */
export function redactSecrets(text: string): string {
  let out = text;
  if (out.includes('://'))
    out = out.replace(URL_IN_TEXT, (url) => {
      if (!url.includes('@')) return url;
      const redacted = redactUrl(url);
      return redacted === url ? url.replace(TOKEN_AS_USER, '$1***@') : redacted;
    });
  if (out.includes('"env":{'))
    out = out.replace(ENV_OBJECT, (env) => env.replace(ENV_VALUE, `:"${REDACT_CENSOR}"`));
  if (!SECRET_WORD.test(out)) return out;
  return out.replace(SECRET_KEY, `"$1":"${REDACT_CENSOR}"`).replace(KEYWORD_IN_TEXT, '$1$2***');
}

/** A pino destination that scrubs every finished line (message, fields, bindings, error stacks) before `inner`. */
export function redactingDestination(inner: { write(line: string): unknown }): { write(line: string): void } {
  return {
    write(line: string) {
      inner.write(redactSecrets(line));
    },
  };
}
