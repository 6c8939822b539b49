import assert from "node:assert/strict";
import { jsonReply, wantsProgress } from "../../src/mcp/json_replies.ts";

Deno.test("a request asks for progress when it carries a progress token, in a batch too", () => {
  const call = { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "execute" } };
  assert.equal(wantsProgress(call), false);
  const asking = { ...call, params: { ...call.params, _meta: { progressToken: 0 } } };
  assert.equal(wantsProgress(asking), true);
  assert.equal(wantsProgress([call, asking]), true);
  assert.equal(wantsProgress(null), false);
});

Deno.test("an SSE reply becomes its JSON-RPC response as one JSON body; others pass through", async () => {
  const events = [
    { jsonrpc: "2.0", method: "notifications/message", params: {} },
    { jsonrpc: "2.0", id: 7, result: { ok: true } },
  ].map((m) => `event: message\ndata: ${JSON.stringify(m)}\n\n`).join("");
  const reply = await jsonReply(
    new Response(events, {
      headers: { "content-type": "text/event-stream", "mcp-session-id": "s" },
    }),
  );
  assert.equal(reply.headers.get("content-type"), "application/json");
  assert.equal(reply.headers.get("mcp-session-id"), "s");
  assert.deepEqual(await reply.json(), { jsonrpc: "2.0", id: 7, result: { ok: true } });
  const plain = new Response("{}", {
    status: 400,
    headers: { "content-type": "application/json" },
  });
  assert.equal(await jsonReply(plain), plain);
});
