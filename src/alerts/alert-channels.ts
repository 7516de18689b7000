import { PgbackmanError } from '../errors.ts';

/**
 * What the agent's operator gives its alerts, never a manifest: the SMTP server (its password from the
 * environment), the sender address, the URL prefixes webhooks may post to, and the status page's address.
 */
export interface AlertChannels {
  readonly smtp: SmtpSettings | undefined;
  readonly from: string;
  readonly allowedWebhooks: readonly string[];
  readonly statusUrl: string | null;
}

export interface SmtpSettings {
  readonly host: string;
  readonly port: number;
  /** smtps: TLS from the first byte; smtp: STARTTLS when the server offers it, or always with requireTLS. */
  readonly secure: boolean;
  readonly requireTLS: boolean;
  readonly user: string | undefined;
  readonly password: string | undefined;
  /** Where the password came from, for messages: never the password itself. */
  readonly passwordFrom: string | undefined;
}

/** The variable the SMTP password is read from: a password on the command line would be in `ps`. */
export const SMTP_PASSWORD_ENV = 'PGBACKMAN_SMTP_PASSWORD';

/**
 * `--smtp smtp[s]://[user@]host[:port][?starttls=required]`: the password, when the server wants one, from
 * PGBACKMAN_SMTP_PASSWORD. A password in the URL is refused (it would be in `ps` and in logs).
 */
export function parseSmtpUrl(value: string, env: NodeJS.ProcessEnv): SmtpSettings {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new PgbackmanError('USAGE', `--smtp: "${value}" is not a URL such as smtp://mail.example.org:587`);
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:')
    throw new PgbackmanError('USAGE', `--smtp: ${url.protocol} is not smtp: or smtps:`);
  if (url.password !== '')
    throw new PgbackmanError(
      'USAGE',
      `--smtp: a password in the URL would show in ps and logs; put it in ${SMTP_PASSWORD_ENV}`,
    );
  const starttls = url.searchParams.get('starttls');
  if (starttls !== null && starttls !== 'required')
    throw new PgbackmanError('USAGE', `--smtp: starttls=${starttls}: only starttls=required is known`);
  const secure = url.protocol === 'smtps:';
  const password = env[SMTP_PASSWORD_ENV];
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? (secure ? 465 : 587) : Number(url.port),
    secure,
    requireTLS: starttls === 'required',
    user: url.username === '' ? undefined : decodeURIComponent(url.username),
    password: password === undefined || password === '' ? undefined : password,
    passwordFrom: password === undefined || password === '' ? undefined : SMTP_PASSWORD_ENV,
  };
}

/** `--allow-webhook PREFIX`: an http(s) URL without credentials, normalised so a prefix ends at a boundary. */
export function parseWebhookPrefix(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new PgbackmanError('USAGE', `--allow-webhook: "${value}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new PgbackmanError('USAGE', `--allow-webhook: ${url.protocol} is not http: or https:`);
  if (url.username !== '' || url.password !== '')
    throw new PgbackmanError('USAGE', '--allow-webhook: a URL prefix has no user or password');
  // new URL() gives an empty path as "/": https://hooks.example.org never allows https://hooks.example.org.evil/.
  return `${url.origin}${url.pathname}`;
}

/** Whether the operator allows posting to `target` (a manifest's URL): under one of the prefixes. Pure. */
export function webhookAllowed(target: string, prefixes: readonly string[]): boolean {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return false;
  }
  if (url.username !== '' || url.password !== '') return false;
  const normalised = `${url.origin}${url.pathname}${url.search}`;
  return prefixes.some((p) => normalised.startsWith(p));
}
