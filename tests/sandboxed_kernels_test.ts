/**
 * Spare sandboxes with real processes, through the host: a new kernel binds the spare started
 * before its request, in a folder slot of its own that it keeps; the pool refills and replaces a
 * spare that dies; `--spare-kernels 0` starts kernels cold; kernels of the old layout move their
 * files into a slot.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { newId } from "../src/ids.ts";
import type { Host } from "../src/host.ts";
import { openRegistry } from "../src/registry/open_registry.ts";
import { openHost } from "./_host.ts";
import { commandLine, sandboxesOf, waitFor } from "./_processes.ts";

/** The value of `code` in kernel `id`, as its text. */
async function value(host: Host, id: string, code: string): Promise<string> {
  const result = await host.execute(id, code);
  assert.equal(result.status, "ok", JSON.stringify(result.error));
  return String(result.data?.["text/plain"]);
}

/** The sandbox pid and working directory of kernel `id`. */
async function whereIs(host: Host, id: string): Promise<{ pid: number; cwd: string }> {
  return {
    pid: Number(await value(host, id, "Deno.pid")),
    cwd: JSON.parse(await value(host, id, "Deno.cwd()")),
  };
}

/** The sandboxes of this process, once there are `count` (the test fails otherwise). */
async function sandboxes(count: number): Promise<number[]> {
  const found = await waitFor(() => sandboxesOf(Deno.pid).length === count, 10_000);
  assert.ok(found, `expected ${count} sandboxes, found ${sandboxesOf(Deno.pid).length}`);
  return sandboxesOf(Deno.pid);
}

Deno.test("a new kernel binds the spare started before its request, in a slot of its own", async () => {
  await using t = await openHost();
  const [spare] = await sandboxes(1);
  const id = await t.host.createKernel();
  const first = await t.host.execute(id, "typeof _");
  assert.deepEqual([first.data?.["text/plain"], first.executionCount], ['"undefined"', 1]);
  const where = await whereIs(t.host, id);
  assert.equal(where.pid, spare, "the kernel runs in the spare that was up before it was asked");
  assert.equal(where.cwd, await t.host.scratchDir(id));
  assert.match(where.cwd, new RegExp(`^${t.dataDir}/slots/[\\w-]{22}/files$`));
  assert.ok(!where.cwd.includes(id));
  const slot = (await t.host.registry.getKernel(id))?.slot;
  assert.ok(slot && where.cwd.includes(slot), "the spare's slot is recorded as the kernel's");
  // /proc/<pid>/cmdline: the permission flags name the slot, never the kernel.
  assert.match(commandLine(spare!), new RegExp(`--allow-write=${where.cwd}`));
  assert.ok(!commandLine(spare!).includes(id), "no kernel id on the sandbox's command line");
  const after = await sandboxes(2);
  assert.ok(after.includes(spare!), "the pool refilled in the background");
});

Deno.test("a kernel's files stay in its slot across a reset, an eviction and a host restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-host-" });
  try {
    let id: string;
    let folder: string;
    {
      await using t = await openHost({ dataDir });
      id = await t.host.createKernel();
      folder = (await whereIs(t.host, id)).cwd;
      await value(t.host, id, 'Deno.writeTextFileSync("notes.txt", "kept"); 1');
      assert.equal(await Deno.readTextFile(join(folder, "notes.txt")), "kept");
      await t.host.reset(id);
      assert.equal((await whereIs(t.host, id)).cwd, folder, "a reset keeps the folder");
      assert.equal(await t.host.stopKernel(id), true);
      assert.equal(await value(t.host, id, 'Deno.readTextFileSync("notes.txt")'), '"kept"');
      assert.equal((await whereIs(t.host, id)).cwd, folder, "an eviction keeps the folder");
    }
    await using again = await openHost({ dataDir });
    const [spare] = await sandboxes(1);
    const where = await whereIs(again.host, id);
    assert.equal(where.cwd, folder, "a host restart keeps the folder");
    assert.notEqual(where.pid, spare, "a kernel with a slot never takes a spare's");
    assert.equal(await value(again.host, id, 'Deno.readTextFileSync("notes.txt")'), '"kept"');
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("kernels started together never share a slot, spares or not; spares are not kernels", async () => {
  await using t = await openHost({ spareKernels: 2, maxKernels: 4 });
  await sandboxes(2);
  const ids = await Promise.all([1, 2, 3, 4].map(() => t.host.createKernel()));
  const folders = await Promise.all(ids.map(async (id) => (await whereIs(t.host, id)).cwd));
  assert.equal(new Set(folders).size, 4, folders.join("\n"));
  const slots = await Promise.all(
    ids.map(async (id) => (await t.host.registry.getKernel(id))?.slot),
  );
  assert.equal(new Set(slots).size, 4);
  for (const [i, folder] of folders.entries()) assert.ok(folder.includes(slots[i]!));
  await sandboxes(6);
  assert.ok(ids.every((id) => t.host.isLive(id)), "spares do not count toward --max-kernels");
});

Deno.test("--spare-kernels 0 keeps no spare: a kernel starts its own sandbox, in a slot", async () => {
  await using t = await openHost({ spareKernels: 0 });
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(sandboxesOf(Deno.pid), [], "no spare is started");
  const id = await t.host.createKernel();
  const where = await whereIs(t.host, id);
  assert.match(where.cwd, /\/slots\/[\w-]{22}\/files$/);
  assert.deepEqual(sandboxesOf(Deno.pid), [where.pid]);
});

Deno.test("a spare that was killed is replaced, and the next kernel binds the new one", async () => {
  await using t = await openHost();
  const [first] = await sandboxes(1);
  const deadFolder = /--allow-write=(\S+)/.exec(commandLine(first!))?.[1];
  assert.match(deadFolder ?? "", /\/slots\/[\w-]{22}\/files$/);
  // Past its first second a spare's death is not taken for a failed start.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  Deno.kill(first!, "SIGKILL");
  const replaced = await waitFor(() => {
    const now = sandboxesOf(Deno.pid);
    return now.length === 1 && now[0] !== first;
  }, 10_000);
  assert.ok(replaced, "a new spare was started");
  const [second] = sandboxesOf(Deno.pid);
  // The replacement may still be starting: the kernel then waits for it rather than start another.
  const id = await t.host.createKernel();
  assert.equal((await whereIs(t.host, id)).pid, second);
  const gone = await waitFor(() => Deno.stat(deadFolder!).then(() => false, () => true), 5000);
  assert.ok(gone, "the dead spare's slot was deleted");
});

Deno.test("a kernel of the old layout moves its files into a slot at its next start; no path names its id", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-host-" });
  try {
    const withFiles = newId();
    const empty = newId();
    const cutShort = newId();
    {
      await using registry = await openRegistry({ dataDir });
      await registry.createKernel({ id: withFiles, state: "stored", now: 1 });
      await registry.createKernel({ id: empty, state: "stored", now: 1 });
      // A move cut short by a crash: the slot was recorded, the files not moved yet.
      await registry.createKernel({ id: cutShort, state: "stored", now: 1 });
      await registry.updateKernel(cutShort, { slot: "cut-short-slot" });
    }
    for (const id of [withFiles, cutShort]) {
      const old = join(dataDir, "kernels", id, "files");
      await Deno.mkdir(join(old, "data"), { recursive: true });
      await Deno.writeTextFile(join(old, "data", "old.txt"), `from before ${id.slice(0, 4)}`);
    }
    await Deno.mkdir(join(dataDir, "kernels", empty, "files"), { recursive: true });

    await using t = await openHost({ dataDir });
    // Before its start the host still finds the files where they are.
    assert.equal(await t.host.scratchDir(withFiles), join(dataDir, "kernels", withFiles, "files"));
    for (const id of [withFiles, cutShort]) {
      assert.equal(
        await value(t.host, id, 'Deno.readTextFileSync("data/old.txt")'),
        JSON.stringify(`from before ${id.slice(0, 4)}`),
      );
      const where = await whereIs(t.host, id);
      const slot = (await t.host.registry.getKernel(id))?.slot;
      assert.ok(slot, "the kernel has a slot now");
      assert.equal(where.cwd, join(dataDir, "slots", slot, "files"));
      assert.equal(await t.host.scratchDir(id), where.cwd);
      const line = commandLine(where.pid);
      assert.match(line, new RegExp(`--allow-write=${where.cwd}`));
      assert.ok(!line.includes(id), `no kernel id on the sandbox's command line: ${line}`);
      assert.ok(!Deno.readLinkSync(`/proc/${where.pid}/cwd`).includes(id), "nor in its cwd");
      await assert.rejects(Deno.stat(join(dataDir, "kernels", id)), Deno.errors.NotFound);
    }
    assert.equal((await t.host.registry.getKernel(cutShort))?.slot, "cut-short-slot");

    const fresh = (await whereIs(t.host, empty)).cwd;
    assert.match(fresh, /\/slots\/[\w-]{22}\/files$/);
    await assert.rejects(Deno.stat(join(dataDir, "kernels", empty)), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("at shutdown the spares are stopped and their slots deleted; closed kernels' too", async () => {
  const t = await openHost();
  try {
    await sandboxes(1);
    const kept = await t.host.createKernel();
    const ephemeral = await t.host.createKernel({ persistent: false });
    const closed = await t.host.createKernel();
    const keptFolder = (await whereIs(t.host, kept)).cwd;
    await whereIs(t.host, ephemeral);
    const closedFolder = (await whereIs(t.host, closed)).cwd;
    await t.host.closeKernel(closed);
    await assert.rejects(Deno.stat(closedFolder), Deno.errors.NotFound);
    await t.host.shutdown();
    assert.deepEqual(sandboxesOf(Deno.pid), []);
    const slots = await Array.fromAsync(Deno.readDir(join(t.dataDir, "slots")));
    assert.deepEqual(slots.map((s) => join(t.dataDir, "slots", s.name, "files")), [keptFolder]);
  } finally {
    await Deno.remove(t.dataDir, { recursive: true });
  }
});
