import assert from "node:assert/strict";
import { foldOutput, progressMessage, reportProgress } from "../../src/mcp/progress.ts";

Deno.test("the newest line is the last non-empty one, a line still being printed first", () => {
  let state = { line: "", partial: "" };
  state = foldOutput(state, "one\ntw");
  assert.deepEqual(state, { line: "one", partial: "tw" });
  state = foldOutput(state, "o\n\n  \n");
  assert.deepEqual(state, { line: "two", partial: "" });
  assert.equal(progressMessage(2500, state), "running for 2.5 s; newest output: two");
  assert.equal(
    progressMessage(1000, foldOutput(state, "thr")),
    "running for 1.0 s; newest output: thr",
  );
  assert.equal(progressMessage(1000, { line: "", partial: "" }), "running for 1.0 s");
  assert.match(progressMessage(1000, { line: "x".repeat(500), partial: "" }), /x{200}…$/);
});

Deno.test("progress is sent once per interval with growing values until stopped", async () => {
  let clock = 0;
  const sent: { progress: number; message: string }[] = [];
  const p = reportProgress((u) => {
    sent.push(u);
    return Promise.resolve();
  }, { intervalMs: 10, now: () => clock });
  p.onOutput("hello\n");
  clock = 1500;
  await new Promise((r) => setTimeout(r, 15));
  clock = 2500;
  await new Promise((r) => setTimeout(r, 10));
  p.stop();
  const count = sent.length;
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(sent.length, count, "nothing after stop");
  assert.ok(count >= 2, `${count} sent`);
  assert.equal(sent[0]?.message, "running for 1.5 s; newest output: hello");
  assert.ok(sent.at(-1)!.progress > sent[0]!.progress);
});
