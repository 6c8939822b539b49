/**
 * Hostile requests over HTTP beyond those in http_test.ts: an oversized batch, and a storm of
 * new sessions beyond the live-kernel cap. Precise errors or bounded waits; nothing else changes.
 */
import assert from "node:assert/strict";
import { initializeRequest } from "../testing/host_process.ts";
import { createHttpHandler } from "../src/mcp/http.ts";
import { openHost } from "./_host.ts";

const HEADERS = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
};
const URL_ = "http://127.0.0.1:8000/mcp";

async function initialize(fetch: (r: Request) => Promise<Response>): Promise<string> {
  const response = await fetch(
    new Request(URL_, {
      method: "POST",
      headers: HEADERS,
      body: JSON.stringify(initializeRequest(0, "storm")),
    }),
  );
  assert.equal(response.status, 200);
  await response.body?.cancel();
  const id = response.headers.get("mcp-session-id")!;
  const ack = await fetch(
    new Request(URL_, {
      method: "POST",
      headers: { ...HEADERS, "mcp-session-id": id },
      body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
    }),
  );
  await ack.body?.cancel();
  return id;
}

async function call(
  fetch: (r: Request) => Promise<Response>,
  session: string,
  body: unknown,
): Promise<Response> {
  return await fetch(
    new Request(URL_, {
      method: "POST",
      headers: { ...HEADERS, "mcp-session-id": session },
      body: JSON.stringify(body),
    }),
  );
}

const execute = (id: number, code: string) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name: "execute", arguments: { code } },
});

Deno.test("a JSON-RPC batch of 10,000 requests is refused with a precise error", async () => {
  await using t = await openHost();
  const handler = createHttpHandler({ host: t.host, log: () => {} });
  try {
    const session = await initialize(handler.fetch);
    const batch = Array.from({ length: 10_000 }, (_, i) => execute(i + 1, "1"));
    const response = await call(handler.fetch, session, batch);
    assert.equal(response.status, 400);
    assert.match((await response.json()).error.message, /Batch must not exceed/);
    assert.equal(t.host.isLive(session), false, "no kernel was started for it");
  } finally {
    await handler.close();
  }
});

Deno.test("a storm of sessions beyond the cap gets bounded waits and exact answers", async () => {
  await using t = await openHost({ maxKernels: 4, capacityWait: 60 });
  const handler = createHttpHandler({ host: t.host, log: () => {} });
  try {
    const earlier = await initialize(handler.fetch);
    const first = await call(handler.fetch, earlier, execute(1, "const mine = 'kept'"));
    assert.equal(first.status, 200);
    await first.body?.cancel();

    const storm = 40;
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: storm }, async (_, i) => {
      const session = await initialize(handler.fetch);
      const response = await call(handler.fetch, session, execute(1, `const n = ${i}; n * 2`));
      const body = await response.json();
      return {
        status: response.status,
        result: body.result?.structuredContent?.result,
        error: body.result?.isError,
      };
    }));
    const seconds = (performance.now() - started) / 1000;
    for (const [i, r] of results.entries()) {
      assert.equal(r.status, 200);
      assert.equal(r.error, false, `session ${i} got an error`);
      assert.equal(r.result, String(i * 2), `session ${i} got someone else's answer`);
    }
    assert.equal((await t.host.registry.listSessions()).length, storm + 1);
    const live = (await t.host.registry.listKernels({ state: "live" })).length;
    assert.ok(live <= 4, `${live} kernels live, cap 4`);
    const back = await call(handler.fetch, earlier, execute(2, "mine"));
    const body = await back.json();
    assert.equal(
      body.result.structuredContent.result,
      '"kept"',
      "the earlier session kept its state",
    );
    assert.ok(seconds < 60, `the storm took ${seconds.toFixed(1)} s`);
  } finally {
    await handler.close();
  }
});
