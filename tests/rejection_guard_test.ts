import assert from "node:assert/strict";
import { guardRejections } from "../src/rejection_guard.ts";

type Line = { level: string; message: string; fields?: Record<string, unknown> };

/** Waits until the event loop has dispatched unhandled rejections. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 50));
}

Deno.test("a stray rejected promise is logged, and the process goes on", async () => {
  const lines: Line[] = [];
  const remove = guardRejections((level, message, fields) =>
    lines.push({ level, message, fields })
  );
  try {
    // Without the guard, Deno ends the test run here ("Uncaught (in promise)").
    Promise.reject(new TypeError("kernel k-1234 said: const secret = 1"));
    await settle();
  } finally {
    remove();
  }
  assert.equal(lines.length, 2);
  const [error, debug] = lines;
  assert.equal(error!.level, "error");
  assert.match(error!.message, /nothing handled it; the host goes on serving/);
  assert.equal(error!.fields?.name, "TypeError");
  assert.match(String(error!.fields?.frames), /rejection_guard_test\.ts/);
  // Ids and code live in messages: only at debug, never in the error line.
  assert.doesNotMatch(JSON.stringify(error), /k-1234|secret/);
  assert.equal(debug!.level, "debug");
  assert.match(String(debug!.fields?.message), /k-1234/);
});

Deno.test("a rejection with a non-Error reason is logged by its type, bounded", async () => {
  const lines: Line[] = [];
  const remove = guardRejections((level, message, fields) =>
    lines.push({ level, message, fields })
  );
  try {
    Promise.reject("x".repeat(100_000));
    await settle();
  } finally {
    remove();
  }
  assert.equal(lines[0]?.fields?.name, "string");
  assert.ok(String(lines[1]?.fields?.message).length <= 1500);
});
