import assert from "node:assert/strict";
import { type Caller, KernelAccessError, KernelNotFoundError } from "../src/host.ts";
import { openHost } from "./_host.ts";

Deno.test("a stdio caller addresses only its default kernel and the kernels it created", async () => {
  await using t = await openHost();
  const other = await t.host.createKernel({ persistent: false });
  const caller: Caller = { defaultKernel: await t.host.createKernel(), created: new Set() };
  assert.equal(await t.host.resolveKernel(caller), caller.defaultKernel);
  await assert.rejects(t.host.resolveKernel(caller, other), KernelNotFoundError);

  const mine = await t.host.createKernelFor(caller);
  assert.deepEqual([...caller.created], [mine]);
  assert.equal(await t.host.resolveKernel(caller, mine), mine);
  const listed = await t.host.listKernelsFor(caller);
  assert.deepEqual(
    listed.map((k) => [k.kernel, k.default, k.owned]),
    [[caller.defaultKernel, true, true], [mine, false, true]],
  );

  await assert.rejects(
    t.host.deleteKernel(caller.defaultKernel, { by: caller }),
    new KernelAccessError(
      "Cannot close this session's default kernel: it ends with the session; " +
        "reset_kernel empties it",
    ),
  );
  await assert.rejects(t.host.deleteKernel(other, { by: caller }), KernelNotFoundError);
  await t.host.deleteKernel(mine, { by: caller });
  assert.equal(caller.created.size, 0);
  assert.equal(await t.host.hasKernel(mine), false);
});

Deno.test("an HTTP session may use another's kernel by id, sees it as shared, and cannot close it", async () => {
  await using t = await openHost();
  await t.host.sessions.open("a", {});
  await t.host.sessions.open("b", {});
  const a: Caller = { defaultKernel: "a", sessionId: "a", created: new Set() };
  const b: Caller = { defaultKernel: "b", sessionId: "b", created: new Set() };
  const shared = await t.host.createKernelFor(a);
  assert.equal(a.created.size, 0, "an HTTP session's kernels are in the registry");
  assert.deepEqual((await t.host.listKernelsFor(b)).map((k) => k.kernel), ["b"]);

  assert.equal(await t.host.resolveKernel(b, shared), shared);
  const seenByB = await t.host.listKernelsFor(b);
  assert.deepEqual(
    Object.fromEntries(seenByB.map((k) => [k.kernel, k.owned])),
    { b: true, [shared]: false },
  );
  await assert.rejects(
    t.host.deleteKernel(shared, { by: b }),
    new KernelAccessError(
      `Cannot close kernel ${shared}: only the session that created it can close it`,
    ),
  );
  await assert.rejects(t.host.resolveKernel(b, "A".repeat(43)), {
    name: "KernelNotFoundError",
    message: `No kernel with id "${"A".repeat(43)}": it was never created here, or it was closed`,
  });

  await t.host.deleteKernel(shared, { by: a });
  await assert.rejects(t.host.resolveKernel(b, shared), KernelNotFoundError);
});
