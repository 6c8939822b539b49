import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { KernelHandle } from "../../src/kernel/kernel_handle.ts";
import { extractRuntime, SANDBOX_FILES } from "../../src/kernel/sandbox_runtime.ts";

const KERNEL_DIR = fileURLToPath(new URL("../../src/kernel/", import.meta.url));

Deno.test("the embedded file list covers the worker folder and every relative import", async () => {
  const listed = new Set<string>(SANDBOX_FILES);
  for await (const entry of Deno.readDir(join(KERNEL_DIR, "worker"))) {
    assert.ok(listed.has(`worker/${entry.name}`), `worker/${entry.name} is not embedded`);
  }
  for (const file of SANDBOX_FILES) {
    const source = await Deno.readTextFile(join(KERNEL_DIR, file));
    for (const [, spec] of source.matchAll(/from "(\.{1,2}\/[^"]+)"/g)) {
      assert.ok(spec, `${file} has an import with no specifier`);
      const target = new URL(spec, `file:///k/${file}`).pathname.slice(3);
      assert.ok(listed.has(target), `${file} imports ${target}, which is not embedded`);
    }
  }
});

Deno.test("a kernel runs, confined, from an extracted copy of the sandbox sources", async () => {
  const runtime = await extractRuntime(Deno.execPath());
  const root = await Deno.makeTempDir({ prefix: "mkh-runtime-" });
  try {
    assert.ok(!runtime.main.startsWith(KERNEL_DIR), "the copy lives elsewhere");
    await using kernel = await KernelHandle.start({ scratchDir: join(root, "files"), runtime });
    assert.equal((await kernel.execute("const x: number = 41; x + 1")).data?.["text/plain"], "42");
    const outside = await kernel.execute(
      `Deno.readTextFileSync(${JSON.stringify(join(KERNEL_DIR, "sandbox.ts"))})`,
    );
    assert.match(outside.error?.message ?? "", /read access/);
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(join(runtime.main, ".."), { recursive: true });
  }
});
