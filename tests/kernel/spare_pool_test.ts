import assert from "node:assert/strict";
import { type Spare, SparePool } from "../../src/kernel/spare_pool.ts";
import type { SandboxExit } from "../../src/kernel/sandbox_process.ts";

/** A sandbox that is started and exits when told. */
class FakeSandbox {
  running = true;
  closed = false;
  #exit = Promise.withResolvers<SandboxExit>();
  readonly exited = this.#exit.promise;

  die(): void {
    this.running = false;
    this.#exit.resolve({ code: 137, signal: "SIGKILL", stderrTail: "" });
  }

  close(): Promise<SandboxExit> {
    this.closed = true;
    this.die();
    return this.exited;
  }

  residentBytes(): Promise<number | undefined> {
    return Promise.resolve(this.running ? 40e6 : undefined);
  }
}

/** A pool of fakes that records what it started and discarded. */
function fakePool(size: number, options: { fail?: () => boolean } = {}) {
  const started: Spare<FakeSandbox>[] = [];
  const discarded: string[] = [];
  const pool = new SparePool<FakeSandbox>({
    size,
    refillDelayMs: 0,
    spawn: () => {
      if (options.fail?.()) return Promise.reject(new Error("no deno"));
      const spare = { slot: `s${started.length + 1}`, sandbox: new FakeSandbox() };
      started.push(spare);
      return Promise.resolve(spare);
    },
    discard: (slot) => {
      discarded.push(slot);
      return Promise.resolve();
    },
  });
  return { pool, started, discarded, [Symbol.asyncDispose]: () => pool.close() };
}

/** Lets the pool's refill timer (0 ms) and the promises behind it run. */
const turn = () => new Promise((resolve) => setTimeout(resolve, 5));

Deno.test("a spare pool hands out the spare it started and refills in the background", async () => {
  await using t = fakePool(1);
  assert.equal(await t.pool.filled(), 1);
  const first = await t.pool.take();
  assert.equal(first?.slot, "s1");
  assert.equal(t.started.length, 1, "the replacement starts after the take, not during it");
  await turn();
  assert.equal(t.started.length, 2);
  assert.equal((await t.pool.take())?.slot, "s2", "two takers never get one slot");
  assert.equal(t.pool.taken, 2);
  assert.deepEqual(await t.pool.residentBytes(), []);
  await turn();
  assert.deepEqual(await t.pool.residentBytes(), [40e6]);
});

Deno.test("a spare that dies is replaced and its slot discarded; a taken one is not", async () => {
  await using t = fakePool(1);
  await t.pool.filled();
  // Older than the early-exit bound, as a spare killed while it waited would be.
  await new Promise((resolve) => setTimeout(resolve, 1050));
  t.started[0]!.sandbox.die();
  await turn();
  assert.deepEqual(t.discarded, ["s1"]);
  assert.equal(t.started.length, 2);
  const taken = await t.pool.take();
  assert.equal(taken?.slot, "s2");
  taken!.sandbox.die();
  await turn();
  assert.deepEqual(t.discarded, ["s1"], "a bound spare's slot belongs to its kernel");
});

Deno.test("a spare that fails to start is not retried until the next take", async () => {
  let failing = true;
  await using t = fakePool(2, { fail: () => failing });
  assert.equal(await t.pool.filled(), 0);
  await turn();
  assert.equal(t.started.length, 0);
  assert.equal(await t.pool.take(), undefined, "the caller starts a sandbox itself");
  failing = false;
  await turn();
  assert.equal(await t.pool.filled(), 2);
});

Deno.test("a spare that dies right after its start is not replaced in a loop", async () => {
  await using t = fakePool(1);
  await t.pool.filled();
  t.started[0]!.sandbox.die();
  await turn();
  assert.equal(t.started.length, 1);
  assert.equal(await t.pool.take(), undefined);
  await turn();
  assert.equal(t.started.length, 2, "a take tries again");
});

Deno.test("closing the pool stops its spares and discards their slots; size 0 starts none", async () => {
  const t = fakePool(2);
  await t.pool.filled();
  await t.pool.close();
  assert.ok(t.started.every((s) => s.sandbox.closed));
  assert.deepEqual(t.discarded.sort(), ["s1", "s2"]);
  assert.equal(await t.pool.take(), undefined);
  await using off = fakePool(0);
  assert.equal(await off.pool.take(), undefined);
  await turn();
  assert.equal(off.started.length, 0);
});
