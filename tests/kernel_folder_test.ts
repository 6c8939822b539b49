import assert from "node:assert/strict";
import { join } from "node:path";
import {
  hasLegacyFiles,
  moveLegacyFolder,
  newSlot,
  removeEmptyLegacyFolder,
  removeKernelFolder,
  scratchFolder,
} from "../src/kernel_folder.ts";

Deno.test("a slot is a fresh random path segment; a kernel's folder follows its slot", () => {
  const slots = new Set(Array.from({ length: 100 }, newSlot));
  assert.equal(slots.size, 100);
  for (const slot of slots) assert.match(slot, /^[\w-]{22}$/);
  assert.equal(scratchFolder("/d", { id: "k", slot: "s" }), "/d/slots/s/files");
  assert.equal(scratchFolder("/d", { id: "k", slot: null }), "/d/kernels/k/files");
});

Deno.test("an old kernel folder's files move into a slot; an empty one is removed; none is none", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-folder-" });
  try {
    await Deno.mkdir(join(dataDir, "kernels", "full", "files", "sub"), { recursive: true });
    await Deno.writeTextFile(join(dataDir, "kernels", "full", "files", "sub", "a.txt"), "a");
    await Deno.mkdir(join(dataDir, "kernels", "empty", "files"), { recursive: true });
    assert.equal(await hasLegacyFiles(dataDir, "empty"), false);
    assert.ok(await Deno.stat(join(dataDir, "kernels", "empty")), "looking removes nothing");
    assert.equal(await hasLegacyFiles(dataDir, "full"), true);
    await moveLegacyFolder(dataDir, "full", "s1");
    assert.equal(
      await Deno.readTextFile(join(dataDir, "slots", "s1", "files", "sub", "a.txt")),
      "a",
    );
    await assert.rejects(Deno.stat(join(dataDir, "kernels", "full")), Deno.errors.NotFound);
    assert.equal(await hasLegacyFiles(dataDir, "full"), false);
    await removeEmptyLegacyFolder(dataDir, "empty");
    await assert.rejects(Deno.stat(join(dataDir, "kernels", "empty")), Deno.errors.NotFound);
    await removeEmptyLegacyFolder(dataDir, "never");

    // A slot that already holds files is not merged into.
    await Deno.mkdir(join(dataDir, "kernels", "again", "files"), { recursive: true });
    await Deno.writeTextFile(join(dataDir, "kernels", "again", "files", "b.txt"), "b");
    await assert.rejects(moveLegacyFolder(dataDir, "again", "s1"), /already holds files/);
    assert.equal(await Deno.readTextFile(join(dataDir, "kernels", "again", "files", "b.txt")), "b");

    await removeKernelFolder(dataDir, { id: "again", slot: null });
    await assert.rejects(Deno.stat(join(dataDir, "kernels", "again")), Deno.errors.NotFound);
    await Deno.mkdir(join(dataDir, "slots", "s", "files"), { recursive: true });
    await removeKernelFolder(dataDir, { id: "k", slot: "s" });
    await assert.rejects(Deno.stat(join(dataDir, "slots", "s")), Deno.errors.NotFound);
    await removeKernelFolder(dataDir, { id: "k", slot: "missing" });
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
