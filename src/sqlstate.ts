import { messageOf } from './errors.ts';
/**
 * What a PostgreSQL (or socket) error means for whoever made the call, from its SQLSTATE or errno: the one
 * place these codes are read, for the catalogue and for the nodes alike.
 *   lost:      the server cannot be reached or went away; the same call may work later
 *   refused:   the server answered and refused the login (password, pg_hba, role, database, TLS)
 *   privilege: the role lacks a privilege
 *   data:      the statement was refused because of the data it was given (classes 22 and 23)
 *   other:     anything else
 */
export type SqlErrorClass = 'lost' | 'refused' | 'privilege' | 'data' | 'other';

// Socket errors, and the server going away or refusing new sessions (admin shutdown, starting up, too many).
const LOST = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
]);

// Invalid password, authorisation rejected (pg_hba or no such role), no such database; and Node's codes for
// a server certificate that fails verification (verify-ca, verify-full).
const REFUSED = new Set([
  '28P01',
  '28000',
  '3D000',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

// pg's message when the server answers an SSLRequest with "no".
const TLS_UNSUPPORTED = /The server does not support SSL connections/;

/** Whether the server refused TLS (so sslmode=prefer may fall back to a plain connection). */
export function isTlsUnsupported(err: unknown): boolean {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' && TLS_UNSUPPORTED.test(message);
}

// pg's own messages for a connection lost without an errno; a statement that got no answer in time (query_timeout)
// too: its connection stays busy with it (pg sends nothing more until it is answered), so it is dropped.
const LOST_MESSAGE =
  /Connection terminated|connection is closed|Client has encountered a connection error|timeout expired|Query read timeout/i;

export function sqlErrorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function classifySqlError(err: unknown): SqlErrorClass {
  const code = sqlErrorCode(err);
  if (code !== undefined) {
    if (LOST.has(code)) return 'lost';
    if (REFUSED.has(code)) return 'refused';
    if (code === '42501') return 'privilege';
    if (/^2[23][0-9A-Z]{3}$/.test(code)) return 'data';
  }
  const message = (err as { message?: unknown } | null)?.message;
  if (typeof message === 'string' && LOST_MESSAGE.test(message)) return 'lost';
  if (isTlsUnsupported(err)) return 'refused';
  return 'other';
}

/** Whether this looks like an error PostgreSQL sent (a five-character SQLSTATE and a severity). */
export function isServerError(err: unknown): err is { code: string; message: string; severity: string } {
  const e = err as { code?: unknown; severity?: unknown } | null;
  return typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === 'string';
}

/** Words for the common connection failures, so a user reads what to check rather than an errno. */
export function connectionReason(err: unknown): string {
  const code = sqlErrorCode(err);
  const message = (err as { message?: unknown } | null)?.message;
  switch (code) {
    case '28P01':
      return 'password authentication failed (check PGPASSWORD, .pgpass or passwordFrom)';
    case 'ECONNREFUSED':
      return 'connection refused (is PostgreSQL running there?)';
    case 'ENOTFOUND':
      return 'unknown host';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `the server's certificate does not name this host (sslMode verify-full): ${String(message)}`;
    default:
      return typeof message === 'string' ? message : messageOf(err);
  }
}

/** Whether a file system refused a write for lack of space (or quota): errno, or a tool's strerror text. */
export function isNoSpace(err: unknown): boolean {
  const code = sqlErrorCode(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' && /No space left on device|Disk quota exceeded/.test(message);
}
