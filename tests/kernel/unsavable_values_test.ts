/**
 * One value a save cannot read never costs the others (security issue, item 3): a Proxy whose
 * traps throw, a throwing getter, a revoked proxy and a list nested beyond the stack are each
 * skipped by name with the reason; every other variable is saved and restored. (A list nested
 * 1,000 deep saves; the walk is recursive and runs out of stack near 2,000 levels, and such a
 * variable is then skipped by name.)
 */
import assert from "node:assert/strict";
import { startKernel } from "./_kernel.ts";

Deno.test("a throwing Proxy, a throwing getter, a revoked proxy and a 100,000-deep list are skipped by name; the rest saves, a 1,000-deep list included", async () => {
  await using t = await startKernel();
  const k = t.kernel;
  const made = await k.execute(`const keep = { a: 1 };
const trap = new Proxy({}, { get() { throw new Error("trap") }, ownKeys() { throw new Error("keys") } });
const getter = { get boom() { throw new Error("getter") } };
const r = Proxy.revocable({}, {}); r.revoke(); const revoked = r.proxy;
let list = null; for (let i = 0; i < 1000; i++) list = { next: list, i };
let deep = null; for (let i = 0; i < 100000; i++) deep = { next: deep };
const shared = [keep]; 1`);
  assert.equal(made.status, "ok", made.error?.message);
  const snapshot = await k.snapshot();
  const reasons = Object.fromEntries(snapshot.skipped.map((s) => [s.path, s.reason]));
  assert.match(reasons.trap ?? "", /reading it threw Error: (trap|keys)/);
  assert.match(reasons.getter ?? "", /reading it threw Error: getter/);
  assert.match(reasons.revoked ?? "", /reading it threw TypeError/);
  assert.match(reasons.deep ?? "", /nested too deeply/);
  await k.reset();
  await k.restore(snapshot.body);
  const back = await k.execute("[keep.a, list.i, list.next.i, shared[0] === keep, typeof trap]");
  assert.equal(
    back.data?.["text/plain"],
    '[ 1, 999, 998, true, "undefined" ]',
    JSON.stringify(back.error),
  );
});
