/**
 * The loopback host names: binding one of them needs no bearer token, and the HTTP endpoint
 * always answers a `Host` or `Origin` naming one.
 *
 * @module
 */

/** `localhost`, IPv4 and IPv6 loopback, the latter bare (`--host`) and bracketed (`Host`, URLs). */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set([
  "localhost",
  "127.0.0.1",
  "::1",
  "[::1]",
]);

/** Whether `host` (a bind address or a URL's host name, without port) is a loopback name. */
export function isLoopback(host: string): boolean {
  // Host names are case-insensitive; `--host LOCALHOST` binds loopback too.
  return LOOPBACK_HOSTS.has(host.toLowerCase());
}
