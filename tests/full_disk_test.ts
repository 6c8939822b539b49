/**
 * The host survives a full disk (security issue, item 2): a kernel fills the data folder's disk
 * (a small tmpfs, so the test needs root to mount it); its cell gets "No space left on device",
 * saves fail and are reported, an idle cull does not bring the host down, and once space is
 * freed the kernel is saved again with its variables.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { openHost } from "./_host.ts";

const MOUNT = Deno.build.os === "linux" && Deno.uid() === 0;

async function tmpfs(sizeMb: number): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "mkh-full-" });
  const mount = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${sizeMb}m`, "tmpfs", dir],
  }).output();
  if (!mount.success) throw new Error(`mount failed: ${new TextDecoder().decode(mount.stderr)}`);
  return {
    dir,
    async [Symbol.asyncDispose]() {
      await new Deno.Command("umount", { args: ["-l", dir] }).output();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test({
  name: "with the data folder's disk full, cells and saves fail with the reason and the host " +
    `goes on serving${MOUNT ? "" : " (ignored: mounting its tmpfs needs root on Linux)"}`,
  ignore: !MOUNT,
  async fn() {
    await using disk = await tmpfs(48);
    const dataDir = join(disk.dir, "data");
    await using t = await openHost({ dataDir, spareKernels: 0, idleTimeout: 1 });
    const id = await t.host.createKernel();
    await t.host.execute(id, "const keep = Array.from({ length: 1000 }, (_, i) => i)");
    assert.equal(await t.host.save(id), true);
    const fill = await t.host.execute(
      id,
      "let wrote = 0; try { for (;;) { Deno.writeFileSync(`fill${wrote}.bin`, " +
        "new Uint8Array(4e6)); wrote++ } } catch (e) { String(e.message) }",
    );
    assert.equal(fill.status, "ok", fill.error?.message);
    assert.match(fill.data?.["text/plain"] ?? "", /No space left on device/);

    // A change the full disk cannot save: the save fails, is said, and the host keeps serving.
    await t.host.execute(id, "const more = keep.map((n) => n * 2)");
    assert.equal(await t.host.save(id), false);
    const said = await t.host.execute(id, "more.length");
    assert.equal(said.data?.["text/plain"], "1000");
    assert.ok(said.saveFailed, "the failed save is said");
    // An idle cull on the full disk cannot save either: the kernel stays live, the host lives.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal(t.host.isLive(id), true, "an unsaved kernel is not culled");

    await t.host.execute(id, "for (let i = 0; i < wrote; i++) Deno.removeSync(`fill${i}.bin`)");
    assert.equal(await t.host.save(id), true, "saved once there is room");
    assert.equal(await t.host.stopKernel(id), true);
    const back = await t.host.execute(id, "[keep.length, more[999]]");
    assert.equal(back.data?.["text/plain"], "[ 1000, 1998 ]");
  },
});
