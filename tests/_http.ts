/** Test helper: a real Streamable HTTP server on a loopback port around a test host. */
import type { HostOptions } from "../src/host.ts";
import { createHttpHandler } from "../src/mcp/http.ts";
import { openHost, type TestHost } from "./_host.ts";

/** A served host: its MCP endpoint and port, closed (transports, server, host) on dispose. */
export interface ServedHost extends TestHost {
  url: URL;
  port: number;
}

/**
 * Serves a host (see `openHost`) over HTTP on 127.0.0.1.
 *
 * @param port A port to listen on, e.g. a restarted host's old one (default: any free port).
 * @param log Where the handler reports problems (default: nowhere).
 */
export async function serveHttp(
  options: Partial<HostOptions> = {},
  port = 0,
  log: (message: string) => void = () => {},
): Promise<ServedHost> {
  const t = await openHost(options);
  const handler = createHttpHandler({ host: t.host, log });
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, handler.fetch);
  return {
    ...t,
    url: new URL(`http://127.0.0.1:${server.addr.port}/mcp`),
    port: server.addr.port,
    async [Symbol.asyncDispose]() {
      await handler.close();
      await server.shutdown();
      await t[Symbol.asyncDispose]();
    },
  };
}
