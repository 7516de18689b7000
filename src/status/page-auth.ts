import { timingSafeEqual } from 'node:crypto';

/**
 * Whether a request may see the page: always when no token is set; else `Authorization: Bearer TOKEN`, or
 * Basic with the token as the password (what a browser's login prompt sends). Compared in constant time.
 */
export function authorized(header: string | undefined, token: string | undefined): boolean {
  if (token === undefined) return true;
  if (header === undefined) return false;
  const [scheme, value = ''] = header.split(' ', 2);
  let given: string | undefined;
  if (scheme?.toLowerCase() === 'bearer') given = value.trim();
  else if (scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value.trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    given = colon === -1 ? undefined : decoded.slice(colon + 1);
  }
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
