import assert from "node:assert/strict";
import { openHost } from "./_host.ts";
import { openRegistry } from "../src/registry/open_registry.ts";
import type { Registry } from "../src/registry/registry.ts";

/**
 * The real SQLite registry, with a hook on the big kernel's snapshot write and read: the moment
 * either starts, `during` runs, and the order of what happens next is recorded.
 */
function watched(
  registry: Registry,
  bigId: () => string | undefined,
  during: (phase: string) => void,
  order: string[],
): Registry {
  return new Proxy(registry, {
    get(target, key, receiver) {
      if (key !== "saveSnapshot" && key !== "loadSnapshot") {
        const value = Reflect.get(target, key, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      }
      const phase = key === "saveSnapshot" ? "write" : "read";
      return async (...args: unknown[]) => {
        if (args[0] !== bigId()) return await Reflect.apply(target[key], target, args);
        order.push(`registry ${phase} starts`);
        during(phase);
        try {
          return await Reflect.apply(target[key], target, args);
        } finally {
          order.push(`registry ${phase} ends`);
        }
      };
    },
  });
}

Deno.test("another kernel is answered while a 100 MB snapshot is written and read back", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-stall-" });
  const order: string[] = [];
  const answers: Promise<unknown>[] = [];
  let big: string | undefined;
  let small = "";
  const registry = watched(await openRegistry({ dataDir }), () => big, (phase) => {
    answers.push(
      t.host.execute(small, "k++").then((r) => {
        assert.equal(r.status, "ok");
        order.push(`bystander answered during the ${phase}`);
      }),
    );
  }, order);
  // Declared after the registry, used only once both exist.
  const t = await openHost({ dataDir, registry, memoryLimit: 1024 });
  try {
    small = await t.host.createKernel({ persistent: true });
    await t.host.execute(small, "let k = 0");
    const id = await t.host.createKernel({ persistent: true });
    const made = await t.host.execute(id, 'const big = "x".repeat(100_000_000); big.length');
    assert.equal(made.status, "ok", JSON.stringify(made.error));
    big = id;
    assert.equal(await t.host.save(id), true);
    const [meta] = await t.host.registry.listSnapshots(id);
    assert.ok(meta!.size > 100_000_000, `${meta!.size} bytes`);

    // Evicted, it comes back from the registry on its next request.
    assert.equal(await t.host.stopKernel(id), true);
    const back = await t.host.execute(id, "big.length");
    assert.equal(back.data?.["text/plain"], "100000000", JSON.stringify(back.error));
    assert.ok(back.restoredFrom, "it came back from its snapshot");
    await Promise.all(answers);
    assert.deepEqual(order, [
      "registry write starts",
      "bystander answered during the write",
      "registry write ends",
      "registry read starts",
      "bystander answered during the read",
      "registry read ends",
    ]);
  } finally {
    big = undefined;
    await t.host.shutdown();
    await Deno.remove(dataDir, { recursive: true });
  }
});
