import assert from "node:assert/strict";
import {
  type Caller,
  KernelAccessError,
  KernelNotFoundError,
  NoKernelError,
  sessionlessCaller,
} from "../src/host.ts";
import { openHost } from "./_host.ts";

Deno.test("a stdio caller addresses only its default kernel and the kernels it created", async () => {
  await using t = await openHost();
  const other = await t.host.createKernel({ persistent: false });
  const own = await t.host.createKernel();
  const caller: Caller = { defaultKernel: own, created: new Set() };
  assert.equal(await t.host.resolveKernel(caller), own);
  await assert.rejects(t.host.resolveKernel(caller, other), KernelNotFoundError);

  const mine = await t.host.createKernelFor(caller);
  assert.deepEqual([...caller.created], [mine]);
  assert.equal(await t.host.resolveKernel(caller, mine), mine);
  const listed = await t.host.listKernelsFor(caller);
  assert.deepEqual(
    listed.map((k) => [k.kernel, k.default, k.owned]),
    [[own, true, true], [mine, false, true]],
  );

  await assert.rejects(
    t.host.deleteKernel(own, { by: caller }),
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
  const ka = await t.host.sessions.open("a", {});
  const kb = await t.host.sessions.open("b", {});
  const a: Caller = { defaultKernel: ka, sessionId: "a", created: new Set() };
  const b: Caller = { defaultKernel: kb, sessionId: "b", created: new Set() };
  const shared = await t.host.createKernelFor(a);
  assert.equal(a.created.size, 0, "an HTTP session's kernels are in the registry");
  assert.deepEqual((await t.host.listKernelsFor(b)).map((k) => k.kernel), [kb]);

  assert.equal(await t.host.resolveKernel(b, shared), shared);
  const seenByB = await t.host.listKernelsFor(b);
  assert.deepEqual(
    Object.fromEntries(seenByB.map((k) => [k.kernel, k.owned])),
    { [kb]: true, [shared]: false },
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

Deno.test("a sessionless caller names kernels by handle: created persistent, owned by no session, closable by any holder", async () => {
  await using t = await openHost();
  const first = sessionlessCaller();
  await assert.rejects(t.host.resolveKernel(first), NoKernelError);
  await assert.rejects(t.host.resolveKernel(first, "no-such-handle"), KernelNotFoundError);

  const handle = await t.host.createKernelFor(first);
  const record = await t.host.registry.getKernel(handle);
  assert.equal(record?.ownerSession, null);
  assert.equal(record?.state, "stored");
  assert.deepEqual((await t.host.listKernelsFor(first)).map((k) => [k.kernel, k.owned]), [
    [handle, true],
  ]);

  // A later request is another caller holding the same handle.
  const later = sessionlessCaller();
  assert.equal(await t.host.resolveKernel(later, handle), handle);
  const ks = await t.host.sessions.open("s", {});
  await assert.rejects(
    t.host.deleteKernel(ks, { by: later }),
    new KernelAccessError(
      `Cannot close kernel ${ks}: only the session that created it can close it`,
    ),
  );
  const session: Caller = { defaultKernel: ks, sessionId: "s", created: new Set() };
  await assert.rejects(t.host.deleteKernel(handle, { by: session }), KernelAccessError);
  await t.host.deleteKernel(handle, { by: later });
  assert.equal(await t.host.hasKernel(handle), false);
});

Deno.test("a session's default kernel id is derived one way from the session id, the same on every host of a registry", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-derived-" });
  let kernel: string;
  {
    await using t = await openHost({ dataDir });
    kernel = await t.host.sessions.open("session-x", {});
    assert.match(kernel, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(kernel, "session-x");
    assert.equal((await t.host.registry.getKernel(kernel))?.ownerSession, "session-x");
    assert.equal(await t.host.sessions.defaultKernelOf("session-x"), kernel);
    assert.notEqual(await t.host.sessions.defaultKernelOf("session-y"), kernel);
  }
  {
    await using again = await openHost({ dataDir });
    assert.equal(await again.host.sessions.defaultKernelOf("session-x"), kernel, "after a restart");
  }
  // Once the host is shut down: its spare sandbox writes into the folder until then.
  await Deno.remove(dataDir, { recursive: true });
});

Deno.test("a session stored when its default kernel had the session's id keeps that kernel", async () => {
  await using t = await openHost();
  await t.host.registry.createSession({ id: "old-session", now: 1 });
  await t.host.registry.createKernel({
    id: "old-session",
    ownerSession: "old-session",
    state: "stored",
    now: 1,
  });
  assert.equal(await t.host.sessions.defaultKernelOf("old-session"), "old-session");
});
