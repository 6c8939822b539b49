/**
 * Which HTTP replies stream, and the JSON body of those that do not. The transport answers every
 * POST that holds requests with an SSE stream, so that progress notifications can flow while a
 * cell runs; a POST that asks for no progress (no request in it carries a `progressToken`) gets
 * its replies as one JSON body instead, as before, which scripts and `curl` read directly.
 *
 * @module
 */

/** Whether a parsed POST body holds a request that asked for progress notifications. */
export function wantsProgress(body: unknown): boolean {
  const messages = Array.isArray(body) ? body : [body];
  return messages.some((m) => {
    const meta = (m as { params?: { _meta?: { progressToken?: unknown } } } | null)?.params?._meta;
    return meta?.progressToken !== undefined;
  });
}

/**
 * Reads an SSE reply to its end and returns its JSON-RPC responses as one JSON body (a single
 * response, or an array for a batch). A reply that is not SSE is returned as it is.
 */
export async function jsonReply(response: Response): Promise<Response> {
  if (!response.headers.get("content-type")?.includes("text/event-stream")) return response;
  const responses: unknown[] = [];
  for (const event of (await response.text()).split("\n\n")) {
    const data = event.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5));
    if (data.length === 0) continue;
    const message = JSON.parse(data.join("\n")) as Record<string, unknown>;
    if ("id" in message && ("result" in message || "error" in message)) responses.push(message);
  }
  const headers = new Headers(response.headers);
  headers.set("content-type", "application/json");
  for (const name of ["cache-control", "connection", "x-accel-buffering"]) headers.delete(name);
  if (responses.length === 0) return new Response(null, { status: 202, headers });
  const body = JSON.stringify(responses.length === 1 ? responses[0] : responses);
  return new Response(body, { status: response.status, headers });
}
