/**
 * A TCP port on 127.0.0.1 that was free a moment ago: for processes that must be told their
 * port before they start (nginx, hosts an upstream list names).
 *
 * @module
 */

/** Binds port 0 on loopback, reads the port the system chose, and frees it again. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
