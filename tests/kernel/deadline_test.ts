import assert from "node:assert/strict";
import { deadline, TIMED_OUT } from "../../src/kernel/deadline.ts";

Deno.test("a promise settled in time gives its value", async () => {
  assert.equal(await deadline(Promise.resolve(42), 60_000), 42);
});

Deno.test("a deadline met leaves no timer that keeps the process alive", async () => {
  const module = new URL("../../src/kernel/deadline.ts", import.meta.url).href;
  const code = `const { deadline } = await import(${JSON.stringify(module)});
    console.log(await deadline(Promise.resolve("met"), 60_000));`;
  // A timer left pending would hold the child for a minute; the signal stops it long before.
  const child = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "piped",
    stderr: "inherit",
    signal: AbortSignal.timeout(15_000),
  }).output();
  assert.equal(child.signal, null);
  assert.equal(new TextDecoder().decode(child.stdout).trim(), "met");
});

Deno.test("a promise that rejects in time rejects the same way", async () => {
  await assert.rejects(deadline(Promise.reject(new RangeError("bad value")), 60_000), {
    name: "RangeError",
    message: "bad value",
  });
});

Deno.test("a promise still pending at the deadline gives TIMED_OUT", async () => {
  assert.equal(await deadline(new Promise<never>(() => {}), 1), TIMED_OUT);
});
