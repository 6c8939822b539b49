/**
 * Test helper: the 2026-07-28 revision by hand (raw requests with the per-request `_meta`
 * envelope and the standard headers) and through the v2 SDK's `Client` pinned to it.
 */
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";

/** The revision without sessions. */
export const MODERN = "2026-07-28";

/** The `_meta` envelope every 2026-07-28 request carries. */
export const ENVELOPE = {
  "io.modelcontextprotocol/protocolVersion": MODERN,
  "io.modelcontextprotocol/clientInfo": { name: "raw-test", version: "1.0.0" },
  "io.modelcontextprotocol/clientCapabilities": {},
};

/**
 * POSTs one 2026-07-28 request: the envelope goes into `params._meta`, and the `Mcp-Method`
 * (and, for `tools/call`, `Mcp-Name`) headers are set as a conforming client sets them.
 */
export function modernPost(
  url: URL | string,
  method: string,
  params: Record<string, unknown> = {},
  options: { headers?: Record<string, string>; signal?: AbortSignal; id?: number } = {},
): Promise<Response> {
  const name = typeof params.name === "string" ? params.name : undefined;
  return fetch(url, {
    method: "POST",
    signal: options.signal,
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": MODERN,
      "mcp-method": method,
      ...(name && { "mcp-name": name }),
      ...options.headers,
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: options.id ?? 1,
      method,
      params: { ...params, _meta: ENVELOPE },
    }),
  });
}

/** A v2 `Client` pinned to 2026-07-28 over Streamable HTTP (no probe, no session). */
export async function modernClient(url: URL): Promise<Client> {
  const client = new Client({ name: "modern-test", version: "1.0.0" }, {
    versionNegotiation: { mode: { pin: MODERN } },
  });
  await client.connect(new StreamableHTTPClientTransport(url));
  return client;
}

/** A tool call's text and structured view. */
export async function callTool(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<{ isError: boolean; text: string; out: Record<string, unknown> }> {
  const r = await client.callTool({ name, arguments: args });
  return {
    isError: r.isError === true,
    text: (r.content as { type: string; text?: string }[]).map((c) => c.text ?? "").join("\n"),
    out: (r.structuredContent ?? {}) as Record<string, unknown>,
  };
}
