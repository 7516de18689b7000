import { isIPv4, isIPv6 } from 'node:net';
import { PgbackmanError } from '../errors.ts';

/** Where the HTTP listener binds; `host` '' means every interface (IPv6 and IPv4 where the system has both). */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

const HOSTNAME =
  /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * `--listen`: `HOST:PORT` (`127.0.0.1:9187`, `[::1]:9187`, `localhost:9187`), `:PORT` for every interface
 * (as Go programs and Flux read `:8080`), or `none`. Port 0 takes a free port (tests).
 */
export function parseListen(value: string): ListenAddress | 'none' {
  if (value === 'none') return 'none';
  const fail = (why: string): never => {
    throw new PgbackmanError(
      'USAGE',
      `--listen ${JSON.stringify(value)}: ${why}; give HOST:PORT (127.0.0.1:9187, [::1]:9187), :PORT for every interface, or none`,
    );
  };
  const colon = value.lastIndexOf(':');
  if (colon < 0) fail('no port');
  const hostPart = value.slice(0, colon);
  const portPart = value.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portPart) || Number(portPart) > 65535) fail(`"${portPart}" is not a port (0-65535)`);
  let host = hostPart;
  if (hostPart.startsWith('[') && hostPart.endsWith(']')) {
    host = hostPart.slice(1, -1);
    if (!isIPv6(host)) fail(`"${host}" is not an IPv6 address`);
  } else if (hostPart.includes(':')) fail('an IPv6 address goes in brackets, as [::1]:9187');
  else if (hostPart !== '' && !isIPv4(hostPart) && !HOSTNAME.test(hostPart))
    fail(`"${hostPart}" is not a host name or IP address`);
  return { host, port: Number(portPart) };
}

/** `host:port` as people write it: IPv6 in brackets, every interface as `:port`. */
export function formatListen(address: ListenAddress): string {
  return `${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
}
