import assert from "node:assert/strict";
import { RED_PNG } from "../_png.ts";
import { join } from "node:path";
import { startKernel } from "./_kernel.ts";

const RED_BASE64 = new Uint8Array(RED_PNG).toBase64();

Deno.test("Deno.jupyter has Deno's notebook API, and Deno's other members pass through", async () => {
  await using t = await startKernel();
  const api = await t.kernel.execute(
    `[display === Deno.jupyter.display, "jupyter" in Deno, Deno.jupyter.$display === Symbol.for("Jupyter.display"),
      ...["display", "format", "broadcast", "md", "html", "svg", "image"].map((k) => typeof Deno.jupyter[k])]`,
  );
  assert.equal(
    api.data?.["text/plain"],
    '[\n  true,       true,\n  true,       "function",\n  "function", "function",\n' +
      '  "function", "function",\n  "function", "function"\n]',
  );
  const through = await t.kernel.execute(
    `await Deno.writeTextFile("note.txt", "kept");
     [await Deno.readTextFile("note.txt"), (Deno.env.set("MKH_SET", "unset"), Deno.env.get("MKH_SET")), Deno.inspect({ a: 1 }),
      typeof Deno.version.deno, Deno.cwd() === ${JSON.stringify(t.scratchDir)}]`,
  );
  assert.equal(through.status, "ok", through.error?.message);
  assert.equal(through.data?.["text/plain"], '[ "kept", "unset", "{ a: 1 }", "string", true ]');
  const exit = await t.kernel.execute("Deno.exit(0)");
  assert.equal(
    exit.error?.message,
    "Deno.exit() would end the kernel; use reset_kernel to start afresh",
  );
  assert.deepEqual(await t.kernel.variables(), []);
});

Deno.test("a cell's displays arrive in order, an awaited async $display among them", async () => {
  await using t = await startKernel();
  const r = await t.kernel.execute(
    `const { md, html, svg } = Deno.jupyter;
     display(md\`# one\`);
     await display({ [Deno.jupyter.$display]: async () => ({ "text/markdown": "two" }) });
     display(html\`<b>three</b>\`, { raw: false });
     display({ "text/html": "<i>four</i>" }, { raw: true });
     await Deno.jupyter.broadcast("display_data", { data: { "text/plain": "five" }, metadata: {} });
     display(new Uint8Array(${JSON.stringify(RED_PNG)}));
     svg\`<svg/>\``,
  );
  assert.equal(r.status, "ok", r.error?.message);
  assert.deepEqual(r.displays, [
    { "text/markdown": "# one", "text/plain": "# one" },
    { "text/markdown": "two", "text/plain": r.displays?.[1]?.["text/plain"] },
    { "text/html": "<b>three</b>", "text/plain": "<b>three</b>" },
    { "text/html": "<i>four</i>", "text/plain": "" },
    { "text/plain": "five" },
    { "image/png": RED_BASE64, "text/plain": r.displays?.[5]?.["text/plain"] },
  ]);
  assert.match(r.displays?.[1]?.["text/plain"] ?? "", /AsyncFunction/);
  assert.match(r.displays?.[5]?.["text/plain"] ?? "", /^Uint8Array\(75\)/);
  assert.deepEqual(r.data, {
    "image/svg+xml": "<svg/>",
    "text/plain": "<image/svg+xml, 6 characters>",
  });
  // Displays belong to the cell that made them.
  const next = await t.kernel.execute("1");
  assert.equal(next.displays, undefined);
  assert.equal(
    (await t.kernel.execute("(await Deno.jupyter.format(md`x`))['text/markdown']"))
      .data?.["text/plain"],
    '"x"',
  );
});

Deno.test("Deno.jupyter.image reads PNG bytes or a file of the scratch folder, and refuses others", async () => {
  await using t = await startKernel();
  await Deno.mkdir(t.scratchDir, { recursive: true });
  await Deno.writeFile(join(t.scratchDir, "red.png"), new Uint8Array(RED_PNG));
  const fromFile = await t.kernel.execute(`Deno.jupyter.image("red.png")`);
  assert.equal(fromFile.status, "ok", fromFile.error?.message);
  assert.deepEqual(fromFile.data, {
    "image/png": RED_BASE64,
    "text/plain": "<image/png 4×3, 75 bytes>",
  });

  const outside = await t.kernel.execute(`Deno.jupyter.image("/etc/hostname")`);
  assert.equal(outside.error?.name, "TypeError");
  assert.match(
    outside.error?.message ?? "",
    /cannot read "\/etc\/hostname": a kernel reads files only in its scratch folder/,
  );
  const notImage = await t.kernel.execute(`Deno.jupyter.image(new Uint8Array([1, 2, 3]))`);
  assert.equal(
    notImage.error?.message,
    "Deno.jupyter.image: the bytes given hold no PNG, JPEG, GIF or WebP image (by their first bytes)",
  );
});

Deno.test("a snapshot binds Deno.jupyter's functions again instead of saving their source", async () => {
  await using t = await startKernel();
  await t.kernel.execute("const { md, display: show } = Deno.jupyter; const n = 2;");
  const taken = await t.kernel.snapshot();
  assert.deepEqual(taken.skipped, []);
  assert.match(new TextDecoder().decode(taken.body), /"source":"Deno.jupyter.md"/);
  await using fresh = await startKernel();
  const restored = await fresh.kernel.restore(taken.body);
  assert.deepEqual(restored.skipped, []);
  const r = await fresh.kernel.execute("show(md`n is ${n}`); md === Deno.jupyter.md");
  assert.equal(r.data?.["text/plain"], "true");
  assert.equal(r.displays?.[0]?.["text/markdown"], "n is 2");
});

Deno.test("a cell's own display shadows the global one and is a variable like any other", async () => {
  await using t = await startKernel();
  assert.deepEqual((await t.kernel.complete("Deno.jup")).matches, ["jupyter"]);
  await t.kernel.execute(`const display = "mine"; let name = "n";`);
  assert.deepEqual(
    (await t.kernel.variables()).map((v) => [v.name, v.preview]),
    [["display", '"mine"'], ["name", '"n"']],
  );
  const taken = await t.kernel.snapshot();
  await using fresh = await startKernel();
  await fresh.kernel.restore(taken.body);
  assert.equal(
    (await fresh.kernel.execute("[display, name]")).data?.["text/plain"],
    '[ "mine", "n" ]',
  );
  // Deno.jupyter.display is still there for the cell that shadowed the global.
  const shown = await fresh.kernel.execute("Deno.jupyter.display(1)");
  assert.deepEqual(shown.displays, [{ "text/plain": "1" }]);
});
