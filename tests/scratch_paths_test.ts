import assert from "node:assert/strict";
import { join } from "node:path";
import {
  resolveForRead,
  resolveForWrite,
  ScratchPathError,
  scratchSegments,
} from "../src/scratch_paths.ts";

function refused(path: string, message: RegExp) {
  assert.throws(() => scratchSegments(path), (e: unknown) => {
    assert.ok(e instanceof ScratchPathError, `${path}: ${e}`);
    assert.match(e.message, message);
    return true;
  });
}

Deno.test("a relative path becomes its segments, with . and empty segments dropped", () => {
  assert.deepEqual(scratchSegments("data.csv"), ["data.csv"]);
  assert.deepEqual(scratchSegments("./out//plot.png"), ["out", "plot.png"]);
  assert.deepEqual(scratchSegments("a/./b/"), ["a", "b"]);
  assert.deepEqual(scratchSegments("..data/x..y"), ["..data", "x..y"], "only a whole .. segment");
});

Deno.test("absolute, .. and odd paths are refused, each with the rule it breaks", () => {
  refused("", /empty/);
  refused("/etc/passwd", /"\/etc\/passwd" is absolute/);
  refused("C:/Windows", /absolute/);
  refused("../secret", /contains "\.\.": a path cannot leave the kernel's folder/);
  refused("a/../../b", /contains "\.\."/);
  refused("a/..", /contains "\.\."/);
  refused("a\\..\\b", /backslash/);
  refused("a\0b", /NUL/);
  refused(".", /names the kernel's folder itself/);
  refused("./", /names the kernel's folder itself/);
});

async function folders() {
  const base = await Deno.makeTempDir({ prefix: "mkh-paths-" });
  const root = join(base, "files");
  const outside = join(base, "outside");
  await Deno.mkdir(root);
  await Deno.mkdir(outside);
  await Deno.writeTextFile(join(outside, "secret.txt"), "not yours");
  return {
    base,
    root,
    outside,
    async [Symbol.asyncDispose]() {
      await Deno.remove(base, { recursive: true });
    },
  };
}

Deno.test("a read resolves symbolic links inside the folder and refuses those that lead out", async () => {
  await using f = await folders();
  await Deno.writeTextFile(join(f.root, "a.txt"), "A");
  await Deno.symlink(join(f.root, "a.txt"), join(f.root, "alias.txt"));
  await Deno.symlink(join(f.outside, "secret.txt"), join(f.root, "leak.txt"));
  await Deno.symlink(f.outside, join(f.root, "dir"));
  await Deno.symlink("../outside/secret.txt", join(f.root, "relative.txt"));

  const real = await Deno.realPath(join(f.root, "a.txt"));
  assert.equal(await resolveForRead(f.root, "alias.txt"), real);
  for (const path of ["leak.txt", "dir/secret.txt", "relative.txt"]) {
    await assert.rejects(resolveForRead(f.root, path), (e: unknown) => {
      assert.ok(e instanceof ScratchPathError, `${path}: ${e}`);
      assert.match(e.message, /leads out of the kernel's folder through a symbolic link/);
      return true;
    });
  }
  await assert.rejects(resolveForRead(f.root, "missing.txt"), (e: unknown) => {
    assert.ok(e instanceof Deno.errors.NotFound);
    assert.match(e.message, /No file "missing\.txt" in the kernel's folder/);
    return true;
  });
  await assert.rejects(resolveForRead(join(f.base, "never-made"), "a.txt"), Deno.errors.NotFound);
});

Deno.test("a write creates missing folders and goes through no symbolic link at all", async () => {
  await using f = await folders();
  const root = join(f.root, "not-yet");
  assert.equal(await resolveForWrite(root, "out/deep/x.csv"), join(root, "out", "deep", "x.csv"));
  assert.ok((await Deno.stat(join(root, "out", "deep"))).isDirectory, "its folders exist");

  await Deno.writeTextFile(join(f.root, "a.txt"), "A");
  await Deno.symlink(join(f.root, "a.txt"), join(f.root, "alias.txt"));
  await Deno.symlink(join(f.outside, "secret.txt"), join(f.root, "leak.txt"));
  await Deno.symlink(f.outside, join(f.root, "dir"));
  const cases: [string, RegExp][] = [
    ["alias.txt", /goes through a symbolic link \(alias\.txt\): writing through one is refused/],
    ["leak.txt", /symbolic link \(leak\.txt\)/],
    ["dir/new.txt", /symbolic link \(dir\)/],
    ["a.txt/inner", /goes through a\.txt, which is a file, not a folder/],
    ["not-yet", /is a folder, not a file/],
  ];
  for (const [path, message] of cases) {
    await assert.rejects(resolveForWrite(f.root, path), (e: unknown) => {
      assert.ok(e instanceof ScratchPathError, `${path}: ${e}`);
      assert.match(e.message, message);
      return true;
    });
  }
  assert.deepEqual(
    [...Deno.readDirSync(f.outside)].map((e) => e.name),
    ["secret.txt"],
    "nothing was created outside",
  );
});
