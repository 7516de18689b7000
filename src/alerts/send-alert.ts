import { createHmac } from 'node:crypto';
import { readPasswordFile } from '../backup/dump/read-password-file.ts';
import type { QueuedAlert } from '../catalogue/alert-messages.ts';
import { assertNever, messageOf } from '../errors.ts';
import type { AlertChannels } from './alert-channels.ts';
import { webhookAllowed } from './alert-channels.ts';
import { emailOf, webhookBodyOf } from './alert-message.ts';

/** A send's outcome: a transient failure is tried again later, a terminal one is recorded FAILED. */
export type SendOutcome =
  | { readonly kind: 'sent' }
  | { readonly kind: 'transient'; readonly error: string }
  | { readonly kind: 'terminal'; readonly error: string };

/** Every network call is bounded: a channel that hangs delays its own message, never a backup. */
const TIMEOUT_MS = 15_000;
/** The only variables a webhook's secretFrom.env may name, as for passwordFrom.env. */
const SECRET_VARIABLE = /^PGBACKMAN_SECRET_[A-Za-z0-9_]{1,111}$/;

export interface SendContext {
  readonly channels: AlertChannels;
  readonly env: NodeJS.ProcessEnv;
  readonly secretsDir: string;
}

type Transport = { sendMail(o: object): Promise<unknown>; close(): void };

/** Sends queued messages by their channel; keeps one SMTP connection pool until closed. */
export function alertSender(ctx: SendContext): {
  send(m: QueuedAlert): Promise<SendOutcome>;
  close(): void;
} {
  let transport: Transport | undefined;
  const mailer = async (): Promise<Transport | undefined> => {
    const smtp = ctx.channels.smtp;
    if (smtp === undefined) return undefined;
    // Loaded only by an agent that sends mail.
    const nodemailer = (await import('nodemailer')).default;
    transport ??= nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      requireTLS: smtp.requireTLS,
      ...(smtp.user === undefined ? {} : { auth: { user: smtp.user, pass: smtp.password ?? '' } }),
      connectionTimeout: TIMEOUT_MS,
      greetingTimeout: TIMEOUT_MS,
      socketTimeout: TIMEOUT_MS,
    }) as unknown as Transport;
    return transport;
  };
  return {
    // Never throws: whatever goes wrong is an outcome.
    async send(m) {
      try {
        switch (m.channel) {
          case 'email':
            return await sendEmail(m, ctx, await mailer());
          case 'webhook':
            return await sendWebhook(m, ctx);
          default:
            return assertNever(m.channel);
        }
      } catch (err) {
        return { kind: 'transient', error: messageOf(err) };
      }
    },
    close() {
      transport?.close();
      transport = undefined;
    },
  };
}

async function sendEmail(
  m: QueuedAlert,
  ctx: SendContext,
  transport: Transport | undefined,
): Promise<SendOutcome> {
  const smtp = ctx.channels.smtp;
  if (smtp === undefined || transport === undefined)
    return { kind: 'terminal', error: 'the agent has no SMTP server to send e-mail through (--smtp)' };
  const { subject, text } = emailOf(m.facts);
  try {
    await transport.sendMail({ from: ctx.channels.from, to: m.target, subject, text });
    return { kind: 'sent' };
  } catch (err) {
    // 5xx from the server (a refused recipient, authentication): trying again will not help.
    const code = (err as { responseCode?: number }).responseCode;
    const error = `${smtp.host}:${smtp.port}: ${messageOf(err)}`;
    return code !== undefined && code >= 500 ? { kind: 'terminal', error } : { kind: 'transient', error };
  }
}

async function sendWebhook(m: QueuedAlert, ctx: SendContext): Promise<SendOutcome> {
  if (!webhookAllowed(m.target, ctx.channels.allowedWebhooks))
    return {
      kind: 'terminal',
      error: `the agent's operator does not allow posting to ${m.target} (--allow-webhook)`,
    };
  let secret: string | undefined;
  try {
    secret = readSecret(m, ctx);
  } catch (err) {
    return { kind: 'terminal', error: messageOf(err) };
  }
  const body = webhookBodyOf(m.facts, m.format ?? 'json');
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'pgbackman',
    'x-pgbackman-event': m.facts.event,
    'x-pgbackman-delivery': m.id,
  };
  if (secret !== undefined)
    headers['x-pgbackman-signature'] = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  let res: Response;
  try {
    res = await fetch(m.target, {
      method: 'POST',
      headers,
      body,
      // A redirect could lead anywhere the operator did not allow.
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    return { kind: 'transient', error: `POST ${m.target}: ${messageOf(cause ?? err)}` };
  }
  await res.body?.cancel().catch(() => undefined);
  if (res.status >= 200 && res.status < 300) return { kind: 'sent' };
  const error = `POST ${m.target}: HTTP ${res.status}`;
  if (res.status >= 300 && res.status < 400)
    return { kind: 'terminal', error: `${error}: a redirect is not followed` };
  return res.status >= 500 || res.status === 408 || res.status === 429
    ? { kind: 'transient', error }
    : { kind: 'terminal', error };
}

function readSecret(m: QueuedAlert, ctx: SendContext): string | undefined {
  const from = m.secretFrom;
  if (from === null) return undefined;
  if ('env' in from) {
    if (!SECRET_VARIABLE.test(from.env))
      throw new Error(
        `refusing webhook secret variable ${from.env}: only PGBACKMAN_SECRET_<NAME> variables may be named`,
      );
    const value = ctx.env[from.env];
    if (value === undefined || value === '')
      throw new Error(`the webhook's secret variable ${from.env} is not set in the agent`);
    return value;
  }
  return readPasswordFile(from.file, ctx.secretsDir, "the webhook's secret file").trim();
}
