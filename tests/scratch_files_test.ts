import assert from "node:assert/strict";
import { join } from "node:path";
import { listScratchFiles, readScratchFile, writeScratchFile } from "../src/scratch_files.ts";
import { ScratchPathError } from "../src/scratch_paths.ts";

async function scratch() {
  const base = await Deno.makeTempDir({ prefix: "mkh-files-" });
  return {
    root: join(base, "files"),
    base,
    async [Symbol.asyncDispose]() {
      await Deno.remove(base, { recursive: true });
    },
  };
}

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("a file written in chunks at offsets reads back whole and by ranges", async () => {
  await using s = await scratch();
  assert.equal(await writeScratchFile(s.root, "d/x.txt", bytes("hello ")), 6);
  assert.equal(await writeScratchFile(s.root, "d/x.txt", bytes("world"), { offset: 6 }), 11);
  assert.equal(await writeScratchFile(s.root, "d/x.txt", bytes("W"), { offset: 6 }), 11, "kept");
  assert.equal(await Deno.readTextFile(join(s.root, "d", "x.txt")), "hello World");

  const all = await readScratchFile(s.root, "d/x.txt", { length: 100 });
  assert.equal(new TextDecoder().decode(all.bytes), "hello World");
  assert.deepEqual([all.size, all.offset, all.head.length], [11, 0, 11]);
  const part = await readScratchFile(s.root, "d/x.txt", { offset: 6, length: 3 });
  assert.equal(new TextDecoder().decode(part.bytes), "Wor");
  const end = await readScratchFile(s.root, "d/x.txt", { offset: 11, length: 3 });
  assert.equal(end.bytes.length, 0, "the end itself is an empty range");

  assert.equal(await writeScratchFile(s.root, "d/x.txt", bytes("new")), 3, "no offset replaces");
});

Deno.test("writes leave no holes and reads stay within the file, with messages that say so", async () => {
  await using s = await scratch();
  await assert.rejects(
    writeScratchFile(s.root, "x.bin", bytes("a"), { offset: 5 }),
    (e: unknown) =>
      e instanceof RangeError && /does not exist yet; send its first chunk without/.test(e.message),
  );
  await writeScratchFile(s.root, "x.bin", bytes("abc"));
  await assert.rejects(
    writeScratchFile(s.root, "x.bin", bytes("a"), { offset: 4 }),
    /the file has 3 bytes; write at 3 to append/,
  );
  await assert.rejects(
    readScratchFile(s.root, "x.bin", { offset: 4, length: 1 }),
    /from offset 4: the file has 3 bytes/,
  );
  await Deno.mkdir(join(s.root, "sub"));
  await assert.rejects(readScratchFile(s.root, "sub", { length: 1 }), /it is a folder/);
  await assert.rejects(readScratchFile(s.root, "../x.bin", { length: 1 }), ScratchPathError);
});

Deno.test("the listing shows regular files in name order, follows no symbolic link, and stops at its limit", async () => {
  await using s = await scratch();
  assert.deepEqual(await listScratchFiles(s.root, { limit: 10 }), [], "no folder yet, no files");
  await writeScratchFile(s.root, "b.txt", bytes("bb"));
  await writeScratchFile(s.root, "a/z.csv", bytes("z"));
  await writeScratchFile(s.root, "c.bin", bytes(""));
  const outside = join(s.base, "outside");
  await Deno.mkdir(outside);
  await Deno.writeTextFile(join(outside, "secret.txt"), "x");
  await Deno.symlink(outside, join(s.root, "link"));
  await Deno.symlink(join(outside, "secret.txt"), join(s.root, "leak.txt"));
  assert.deepEqual(await listScratchFiles(s.root, { limit: 10 }), [
    { path: "a/z.csv", size: 1 },
    { path: "b.txt", size: 2 },
    { path: "c.bin", size: 0 },
  ]);
  assert.equal((await listScratchFiles(s.root, { limit: 2 })).length, 2);
});
