/**
 * A kernel's disk quota (security issue, item 2): a write past it fails with "File too large"
 * and the kernel lives; a cell that makes the folder grow past it is stopped and the kernel
 * keeps its variables; a folder over its quota is said on each result until files go.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { folderUsage, quotaBreach } from "../../src/kernel/disk_quota.ts";
import { startKernel } from "./_kernel.ts";

Deno.test("folderUsage counts bytes and files below a folder, not following links; quotaBreach says why", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "a/b"), { recursive: true });
    await Deno.writeFile(join(dir, "a/b/one.bin"), new Uint8Array(1000));
    await Deno.writeFile(join(dir, "two.bin"), new Uint8Array(500));
    await Deno.symlink("/etc", join(dir, "link"));
    const usage = await folderUsage(dir);
    assert.equal(usage.files, 3);
    assert.ok(usage.bytes >= 1500 && usage.bytes < 1600, `${usage.bytes}`);
    assert.deepEqual(await folderUsage(join(dir, "missing")), { bytes: 0, files: 0 });
    assert.equal(quotaBreach(usage, { bytes: 2000, files: 3 }), undefined);
    assert.match(
      quotaBreach(usage, { bytes: 1000, files: 10 })!,
      /holds 0\.0 MB, over its disk quota/,
    );
    assert.match(
      quotaBreach(usage, { bytes: 1e6, files: 2 })!,
      /more than 2 files \(--max-files\)/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("folderUsage counts a folder of many files the same whichever walk measures it, and stops past stopAfter", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "sub"));
    // 200 files: the synchronous walk; 400: past it, the asynchronous one.
    for (let i = 0; i < 400; i++) {
      await Deno.writeFile(join(dir, i % 2 ? "sub" : "", `f${i}`), new Uint8Array(10));
      if (i === 199) assert.deepEqual(await folderUsage(dir), { bytes: 2000, files: 200 });
    }
    assert.deepEqual(await folderUsage(dir), { bytes: 4000, files: 400 });
    assert.ok((await folderUsage(dir, 100)).files > 100);
    assert.ok((await folderUsage(dir, 300)).files > 300);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a file larger than the quota cannot be written, and the kernel lives with its variables", async () => {
  await using t = await startKernel({ diskQuota: { bytes: 5e6, files: 100 } });
  await t.kernel.execute("const keep = 'kept'");
  const big = await t.kernel.execute("Deno.writeFileSync('big.bin', new Uint8Array(8e6))");
  assert.equal(big.status, "error");
  assert.match(big.error?.message ?? "", /File too large/);
  assert.equal((await t.kernel.execute("keep")).data?.["text/plain"], '"kept"');
});

Deno.test("a cell that grows its folder past the quota is stopped; the kernel keeps its variables and is told until files go", async () => {
  await using t = await startKernel({ diskQuota: { bytes: 5e6, files: 100 } });
  await t.kernel.execute("let written = 0");
  const filling = await t.kernel.execute(
    "for (let i = 0; i < 100; i++) { await Deno.writeFile(`part${i}.bin`, new Uint8Array(1e6)); " +
      "written++; await new Promise((r) => setTimeout(r, 20)); }",
  );
  assert.equal(filling.status, "cancelled");
  assert.equal(filling.error?.name, "DiskQuotaError");
  assert.match(filling.error?.message ?? "", /over its disk quota of 5\.0 MB .*kept its variables/);
  const after = await t.kernel.execute("written");
  assert.ok(Number(after.data?.["text/plain"]) < 100, "stopped early");
  assert.match(after.stderr, /\[disk quota\] the kernel's folder holds/);
  await t.kernel.execute("for (const e of Deno.readDirSync('.')) Deno.removeSync(e.name)");
  assert.doesNotMatch((await t.kernel.execute("1")).stderr, /disk quota/);
});

Deno.test("a cell that makes files fast is stopped past --max-files: an awaiting or a synchronous loop keeps the variables, unchecked code restarts the kernel and says so", async () => {
  await using t = await startKernel({ diskQuota: { bytes: 1e9, files: 200 } });
  await t.kernel.execute("let made = 0");
  const awaiting = await t.kernel.execute(
    "for (;;) { await Deno.writeTextFile(`a${made}.txt`, ''); made++ }",
  );
  assert.equal(awaiting.status, "cancelled");
  assert.equal(awaiting.error?.name, "DiskQuotaError");
  assert.match(
    awaiting.error?.message ?? "",
    /more than 200 files \(--max-files\).*kept its variables/,
  );
  const made = Number((await t.kernel.execute("made")).data?.["text/plain"]);
  assert.ok(made > 200, `${made} files made`);
  // The loop was ended with its process: the folder no longer grows.
  const files = (await folderUsage(t.scratchDir)).files;
  assert.ok(files >= made, `${files} files, ${made} counted`);
  await new Promise((r) => setTimeout(r, 600));
  assert.equal((await folderUsage(t.scratchDir)).files, files);
  await t.kernel.execute(
    "for (const e of Deno.readDirSync('.')) Deno.removeSync(e.name); made = 0",
  );

  // No await: the loop's own interrupt check stops it, and the kernel keeps its variables.
  const loop = await t.kernel.execute(
    "for (;;) { Deno.writeTextFileSync(`s${made}.txt`, ''); made++ }",
  );
  assert.equal(loop.status, "cancelled");
  assert.equal(loop.error?.name, "DiskQuotaError");
  assert.match(loop.error?.message ?? "", /more than 200 files .*kept its variables/);
  assert.ok(Number((await t.kernel.execute("made")).data?.["text/plain"]) > 200);
  await t.kernel.execute(
    "for (const e of Deno.readDirSync('.')) Deno.removeSync(e.name); made = 0",
  );

  // Code the kernel did not compile has no checks: only restarting the kernel stops it.
  const unchecked = await t.kernel.execute(
    "eval(\"for (;;) { Deno.writeTextFileSync(`s${made}.txt`, ''); made++ }\")",
  );
  assert.equal(unchecked.status, "cancelled");
  assert.equal(unchecked.error?.name, "DiskQuotaError");
  assert.match(
    unchecked.error?.message ?? "",
    /more than 200 files .*synchronous code cannot be interrupted.*restarted/,
  );
  assert.doesNotMatch(unchecked.error?.message ?? "", /kept its variables/);
  assert.match(unchecked.lost ?? "", /all variables/);
  assert.ok((await folderUsage(t.scratchDir)).files > 200);
  assert.equal((await t.kernel.execute("1 + 1")).data?.["text/plain"], "2");
});
