import assert from "node:assert/strict";
import { startKernel } from "./_kernel.ts";

/** Resident bytes the sandbox added while `step` ran. */
async function growth(
  kernel: { memoryBytes(): Promise<number | null> },
  step: () => Promise<unknown>,
): Promise<number> {
  const before = await kernel.memoryBytes() ?? 0;
  await step();
  return (await kernel.memoryBytes() ?? 0) - before;
}

Deno.test("inspecting, listing and completing a 12-million-character string keeps the kernel and the string", async () => {
  await using t = await startKernel({ memoryLimitMb: 512 });
  const { kernel } = t;
  await kernel.execute(`const s10 = "a,b,c\\n".repeat(2_000_000); s10.length`);
  const pid = kernel.pid;

  let detail;
  const grew = await growth(kernel, async () => detail = await kernel.inspect("s10"));
  assert.equal(kernel.pid, pid, "the kernel was not restarted");
  assert.ok(grew < 100e6, `inspect added ${grew} resident bytes`);
  assert.equal(detail!.type, "string");
  assert.ok(detail!.preview.startsWith(`"a,b,c\\na,b,c\\n`), detail!.preview.slice(0, 40));
  assert.ok(detail!.preview.endsWith(`"... 11990000 more characters`), detail!.preview.slice(-40));
  assert.deepEqual(detail!.members, []);

  const [listed] = await kernel.variables();
  assert.equal(listed?.name, "s10");
  assert.equal(listed?.preview.length, 80);
  assert.ok(listed?.preview.startsWith(`"a,b,c\\n`));

  const completion = await kernel.complete("s10.su");
  assert.deepEqual(completion.matches, ["sub", "substr", "substring", "sup"]);
  assert.deepEqual((await kernel.complete(`s10["`)).matches, []);

  assert.equal(kernel.pid, pid);
  assert.equal((await kernel.execute("s10.length")).data?.["text/plain"], "12000000");
});

Deno.test("inspecting and completing an 8-million-item Float64Array keeps the kernel and the array", async () => {
  await using t = await startKernel({ memoryLimitMb: 512 });
  const { kernel } = t;
  await kernel.execute(`const fa = new Float64Array(8_000_000); fa[0] = 1.5; fa.length`);
  const pid = kernel.pid;

  let detail;
  const grew = await growth(kernel, async () => detail = await kernel.inspect("fa"));
  assert.equal(kernel.pid, pid, "the kernel was not restarted");
  assert.ok(grew < 100e6, `inspect added ${grew} resident bytes`);
  assert.equal(detail!.type, "Float64Array(8000000)");
  assert.match(detail!.preview, /^Float64Array\(8000000\) \[\n {2}1\.5, 0,/);
  assert.match(detail!.preview, /\.\.\. 7999900 more items\n\]$/);

  assert.deepEqual((await kernel.complete("fa.su")).matches, ["subarray"]);
  const [listed] = await kernel.variables();
  assert.equal(listed?.type, "Float64Array(8000000)");
  assert.equal(listed?.approxBytes, 64_000_032);

  assert.equal(kernel.pid, pid);
  assert.equal((await kernel.execute("fa[0] + fa.length")).data?.["text/plain"], "8000001.5");
});

Deno.test("a short array still lists its own non-index properties among its members", async () => {
  await using t = await startKernel();
  await t.kernel.execute(`const tagged = Object.assign([1, 2, 3], { unit: "m" });`);
  const detail = await t.kernel.inspect("tagged");
  assert.deepEqual(detail.members.map((m) => m.name), ["unit"]);
});

Deno.test("100,000 rows parsed by d3-dsv show their columns among the members", async () => {
  await using t = await startKernel();
  const r = await t.kernel.execute(
    `import { csvParse } from "npm:d3-dsv@3.0.2";\n` +
      "const rows = csvParse('id,group\\n' + Array.from({ length: 100_000 }, (_, i) => " +
      "`${i},g${i % 7}`).join('\\n')); rows.length",
  );
  assert.equal(r.data?.["text/plain"], "100000");
  const detail = await t.kernel.inspect("rows", 1);
  assert.ok(detail.members.some((m) => m.name === "columns"), JSON.stringify(detail.members));
});
