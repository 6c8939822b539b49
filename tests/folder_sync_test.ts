import assert from "node:assert/strict";
import { join } from "node:path";
import { folderSync, MAX_TRAVELLING_FILE } from "../src/folder_sync.ts";
import { slotScratch } from "../src/kernel_folder.ts";
import { openMemoryRegistry } from "../src/registry/memory/memory_registry.ts";
import { type FileChanges, LeaseLostError, type Registry } from "../src/registry/registry.ts";

/** Two hosts' data folders and one registry that counts the file writes it gets. */
async function rig() {
  const registry = openMemoryRegistry();
  const writes: FileChanges[] = [];
  const saveFiles: Registry["saveFiles"] = (id, changes, options) => {
    writes.push(changes);
    return registry.saveFiles(id, changes, options);
  };
  const counting = new Proxy(registry, {
    get: (target, key) => {
      if (key === "saveFiles") return saveFiles;
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const a = await Deno.makeTempDir({ prefix: "mkh-sync-a-" });
  const b = await Deno.makeTempDir({ prefix: "mkh-sync-b-" });
  await registry.createKernel({ id: "k", now: 1 });
  await registry.updateKernel("k", { slot: "s1" });
  return {
    registry: counting,
    writes,
    folderA: slotScratch(a, "s1"),
    folderB: slotScratch(b, "s1"),
    a: folderSync({ dataDir: a, quotaBytes: 1000 }),
    b: folderSync({ dataDir: b, quotaBytes: 1000 }),
    async [Symbol.asyncDispose]() {
      await Deno.remove(a, { recursive: true });
      await Deno.remove(b, { recursive: true });
    },
  };
}

Deno.test("a folder's files are saved, then only what changed; another host gets them back", async () => {
  await using r = await rig();
  await Deno.mkdir(join(r.folderA, "sub"), { recursive: true });
  await Deno.writeTextFile(join(r.folderA, "a.txt"), "alpha");
  await Deno.writeFile(join(r.folderA, "sub", "b.bin"), new Uint8Array([1, 2, 3]));
  assert.deepEqual(await r.a.save("k", r.registry, undefined), []);
  assert.deepEqual(r.writes[0]?.put.map((f) => f.path), ["a.txt", "sub/b.bin"]);

  assert.deepEqual(await r.a.save("k", r.registry, undefined), []);
  assert.equal(r.writes.length, 1, "nothing changed: nothing sent");

  await Deno.writeTextFile(join(r.folderA, "a.txt"), "alpha, longer");
  await Deno.remove(join(r.folderA, "sub", "b.bin"));
  await r.a.save("k", r.registry, undefined);
  assert.deepEqual(
    [r.writes[1]?.put.map((f) => f.path), r.writes[1]?.remove],
    [["a.txt"], ["sub/b.bin"]],
  );

  assert.equal(await r.b.restore("k", r.registry, { exact: false }), undefined);
  assert.equal(await Deno.readTextFile(join(r.folderB, "a.txt")), "alpha, longer");
  const [here, there] = await Promise.all(
    [r.folderA, r.folderB].map((f) => Deno.stat(join(f, "a.txt"))),
  );
  assert.equal(there!.mtime?.getTime(), here!.mtime?.getTime(), "with its saved mtime");
  await r.b.save("k", r.registry, undefined);
  assert.equal(r.writes.length, 2, "restored files are not sent back");
});

Deno.test("files past the disk quota, too large or not regular are named and not saved", async () => {
  await using r = await rig();
  await Deno.mkdir(r.folderA, { recursive: true });
  await Deno.writeFile(join(r.folderA, "a-small.txt"), new Uint8Array(600));
  await Deno.writeFile(join(r.folderA, "b-over.txt"), new Uint8Array(600));
  await Deno.symlink("/etc/hostname", join(r.folderA, "c-link"));
  const skipped = await r.a.save("k", r.registry, undefined);
  assert.deepEqual(skipped.map((s) => s.path), ["files/c-link", "files/b-over.txt"]);
  assert.match(skipped[1]!.reason, /past the disk quota \(0 MB\)/);
  assert.deepEqual((await r.registry.listFiles("k")).map((f) => f.path), ["a-small.txt"]);
  assert.ok(MAX_TRAVELLING_FILE >= 64 * 2 ** 20);
});

Deno.test("a save fenced by a lost lease writes no file", async () => {
  await using r = await rig();
  await Deno.mkdir(r.folderA, { recursive: true });
  await Deno.writeTextFile(join(r.folderA, "late.txt"), "late");
  const old = await r.registry.acquireLease("k", "host-a", 60_000);
  assert.ok(old.ok);
  await r.registry.releaseLease("k", { holder: "host-a", epoch: old.epoch });
  await r.registry.acquireLease("k", "host-b", 60_000);
  await assert.rejects(
    r.a.save("k", r.registry, { holder: "host-a", epoch: old.epoch }),
    LeaseLostError,
  );
  assert.deepEqual(await r.registry.listFiles("k"), []);
});

Deno.test("a saved path that would leave the folder is refused on restore, the others written", async () => {
  await using r = await rig();
  const bytes = new TextEncoder().encode("x");
  await r.registry.saveFiles("k", {
    put: [
      { path: "../escape.txt", size: 1, mtimeMs: 1000, sha256: "", bytes },
      { path: "ok.txt", size: 1, mtimeMs: 1000, sha256: "", bytes },
    ],
    remove: [],
  });
  const words = await r.b.restore("k", r.registry, { exact: false });
  assert.match(words ?? "", /^scratch files not restored: \.\.\/escape\.txt \(its saved path/);
  assert.equal(await Deno.readTextFile(join(r.folderB, "ok.txt")), "x");
});

Deno.test("a kernel from another holder gets exactly the saved files; one staying keeps extras", async () => {
  await using r = await rig();
  await Deno.mkdir(r.folderA, { recursive: true });
  await Deno.writeTextFile(join(r.folderA, "kept.txt"), "kept");
  await r.a.save("k", r.registry, undefined);
  await Deno.writeTextFile(join(r.folderA, "unsaved.txt"), "after the save");
  assert.equal(await r.a.restore("k", r.registry, { exact: false }), undefined);
  assert.equal(await Deno.readTextFile(join(r.folderA, "unsaved.txt")), "after the save");
  await r.a.restore("k", r.registry, { exact: true });
  assert.deepEqual((await Array.fromAsync(Deno.readDir(r.folderA))).map((e) => e.name), [
    "kept.txt",
  ]);
});
