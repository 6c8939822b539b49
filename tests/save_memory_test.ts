/**
 * Saves within the memory limit, with real sandboxes at a 256 MB limit and namespaces of the
 * size a data notebook holds: a save never kills its kernel, and a save that cannot be made is
 * said on the next result.
 */
import assert from "node:assert/strict";
import { openHost } from "./_host.ts";

const ROWS = (n: number) =>
  `const rows = Array.from({ length: ${n} }, (_, i) => ` +
  `({ id: i, name: "row" + i, v: Math.random(), tags: ["a", "b"] })); rows.length`;

Deno.test("the three-call repro: a save after a large cell keeps every variable", async () => {
  await using t = await openHost({ memoryLimit: 256, saveEvery: 2 });
  const a = await t.host.createKernel();
  await t.host.execute(a, `const keep = "I was here"; 1`);
  const big = await t.host.execute(
    a,
    `const big = Array.from({length: 400000}, (_, i) => ({ id: i, name: "row" + i, ` +
      `v: Math.random(), tags: ["a","b"] })); big.length`,
  );
  assert.equal(big.data?.["text/plain"], "400000");
  assert.equal(await t.host.save(a), true, "the save after the 2nd request fits");
  const after = await t.host.execute(a, "[typeof keep, typeof big, big.length]");
  assert.equal(after.data?.["text/plain"], '[ "string", "object", 400000 ]');
  assert.equal(after.lost, undefined);
  assert.equal(after.restoredFrom, undefined, "the kernel never died");
});

Deno.test("a namespace of half the memory limit saves and restores", async () => {
  await using t = await openHost({ memoryLimit: 256 });
  const a = await t.host.createKernel();
  // About 115 MB of objects (measured: the kernel then holds 160 MB), near half the limit.
  await t.host.execute(a, ROWS(500_000));
  const held = (await t.host.kernelInfo(a)).memoryBytes;
  assert.ok(held === null || held > 100 * 2 ** 20, `the kernel holds ${held} bytes`);
  assert.equal(await t.host.save(a), true);
  assert.equal(await t.host.stopKernel(a), true);
  const back = await t.host.execute(a, "rows.length + rows[499_999].tags.length");
  assert.equal(back.status, "ok", JSON.stringify(back.error));
  assert.equal(back.data?.["text/plain"], "500002");
  assert.equal(back.restoredFrom?.version, 1);
});

Deno.test("a save that cannot fit is refused: the kernel lives, and results say it is unsaved", async () => {
  await using t = await openHost({ memoryLimit: 256 });
  const a = await t.host.createKernel();
  await t.host.execute(a, "const keep = 1");
  // 160 MB of floats: more than 60% of the limit, under the limit itself.
  await t.host.execute(a, "let floats = new Float64Array(20_000_000).fill(0.5); floats.length");
  assert.equal(await t.host.save(a), false);
  const next = await t.host.execute(a, "[typeof keep, floats.length]");
  assert.equal(next.data?.["text/plain"], '[ "number", 20000000 ]', "nothing was lost");
  assert.equal(next.restoredFrom, undefined, "the kernel never died");
  assert.match(next.saveFailed ?? "", /Cannot save the kernel: its variables hold \d+ MB/);
  assert.equal(await t.host.stopKernel(a), false, "an unsaved kernel is not stopped");
  await t.host.execute(a, "floats = floats.subarray(0, 10).slice()");
  // The refused save is retried after a delay; once the data is smaller it works.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  assert.equal(await t.host.save(a), true);
  const saved = await t.host.execute(a, "floats.length");
  assert.equal(saved.saveFailed, undefined, "the warning ends with a save that worked");
});
