import assert from "node:assert/strict";
import { executeResult, executeText, truncate } from "../../src/mcp/content.ts";

Deno.test("execute text shows count and status, output, value and error in that order", () => {
  const text = executeText({
    status: "error",
    executionCount: 3,
    stdout: "hello\n",
    stderr: "careful\n",
    error: { name: "TypeError", message: "boom", stack: "TypeError: boom\n    at cell-3:1:1" },
    durationMs: 1.25,
  });
  assert.equal(
    text,
    "[3] error (1.3 ms)\nstdout:\nhello\nstderr:\ncareful\nTypeError: boom\n    at cell-3:1:1",
  );
  const ok = executeText({
    status: "ok",
    executionCount: 4,
    stdout: "",
    stderr: "",
    data: { "text/plain": "42" },
    durationMs: 12.4,
  });
  assert.equal(ok, "[4] ok (12 ms)\nOut[4]: 42");
});

Deno.test("long text is cut with a note of what was left out", () => {
  assert.equal(truncate("abcdef", 4), "abcd\n[truncated: 2 more characters]");
  assert.equal(truncate("abc", 4), "abc");
});

Deno.test("a value's text/markdown is its text for the model; the structured result is text/plain", () => {
  const r = {
    status: "ok" as const,
    executionCount: 2,
    stdout: "",
    stderr: "",
    data: { "text/plain": "Report {}", "text/markdown": "**report**", "image/png": "iVBORw0K" },
    durationMs: 20,
  };
  assert.equal(executeText(r), "[2] ok (20 ms)\nOut[2]: **report**");
  const result = executeResult(r, "k");
  assert.deepEqual(result.content, [{ type: "text", text: "[2] ok (20 ms)\nOut[2]: **report**" }]);
  assert.equal((result.structuredContent as { result: string }).result, "Report {}");
  assert.equal(result.isError, false);
});
