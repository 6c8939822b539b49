import assert from "node:assert/strict";
import {
  capacityRefusal,
  type KernelView,
  needsSave,
  pickCulls,
  pickEvictions,
  retryDelayMs,
  SAVE_AFTER_WORK_MS,
} from "../../src/supervisor/policy.ts";

function kernel(id: string, fields: Partial<KernelView> = {}): KernelView {
  return {
    id,
    live: true,
    busy: false,
    persistent: true,
    lastActive: 0,
    dirty: false,
    dirtySince: null,
    requestsSinceSave: 0,
    unsavedWorkMs: 0,
    lastSaveMs: 0,
    retrySaveAt: null,
    ...fields,
  };
}

Deno.test("eviction picks the least recently used idle kernels, as many as needed", () => {
  const kernels = [
    kernel("recent", { lastActive: 300 }),
    kernel("oldest", { lastActive: 100 }),
    kernel("middle", { lastActive: 200 }),
    kernel("stored", { live: false, lastActive: 1 }),
  ];
  assert.deepEqual(pickEvictions(kernels, 4), []);
  assert.deepEqual(pickEvictions(kernels, 3), ["oldest"]);
  assert.deepEqual(pickEvictions(kernels, 2), ["oldest", "middle"]);
  assert.deepEqual(pickEvictions(kernels, 3, 2), ["oldest", "middle"]);
});

Deno.test("eviction never picks a busy or an ephemeral kernel", () => {
  const kernels = [
    kernel("busy-old", { lastActive: 1, busy: true }),
    kernel("ephemeral", { lastActive: 2, persistent: false }),
    kernel("idle", { lastActive: 3 }),
  ];
  assert.deepEqual(pickEvictions(kernels, 3), ["idle"]);
  assert.deepEqual(pickEvictions(kernels, 1), ["idle"], "only one can go; the caller waits");
  assert.deepEqual(pickEvictions(kernels.slice(0, 1), 1), []);
});

Deno.test("culling stops idle kernels once their idle time reaches the timeout", () => {
  const kernels = [
    kernel("idle-long", { lastActive: 0 }),
    kernel("idle-short", { lastActive: 900 }),
    kernel("busy", { lastActive: 0, busy: true }),
    kernel("stored", { lastActive: 0, live: false }),
  ];
  assert.deepEqual(pickCulls(kernels, 999, 1000), []);
  assert.deepEqual(pickCulls(kernels, 1000, 1000), ["idle-long"]);
  assert.deepEqual(pickCulls(kernels, 1900, 1000), ["idle-long", "idle-short"]);
});

Deno.test("a dirty kernel is saved after the interval or after N requests, not before", () => {
  const policy = { saveIntervalMs: 15_000, saveEvery: 10 };
  const dirty = kernel("k", { dirty: true, dirtySince: 1000, requestsSinceSave: 3 });
  assert.equal(needsSave(dirty, 15_999, policy), false);
  assert.equal(needsSave(dirty, 16_000, policy), true);
  assert.equal(needsSave({ ...dirty, requestsSinceSave: 10 }, 1001, policy), true);
  assert.equal(needsSave({ ...dirty, dirty: false }, 99_999, policy), false);
  // An ephemeral kernel is saved by the same rules, to its memory registry.
  assert.equal(needsSave({ ...dirty, persistent: false }, 16_000, policy), true);
  assert.equal(needsSave({ ...dirty, persistent: false }, 15_999, policy), false);
});

Deno.test("unsaved cells that ran 2 s in all are saved at once, unless saves take longer", () => {
  const policy = { saveIntervalMs: 15_000, saveEvery: 10 };
  const dirty = kernel("k", { dirty: true, dirtySince: 1000, requestsSinceSave: 1 });
  assert.equal(SAVE_AFTER_WORK_MS, 2000);
  assert.equal(needsSave({ ...dirty, unsavedWorkMs: 1999 }, 1001, policy), false);
  assert.equal(needsSave({ ...dirty, unsavedWorkMs: 2000 }, 1001, policy), true);
  // A kernel whose save took 5 s is saved after 5 s of work, not after every 2 s cell.
  assert.equal(needsSave({ ...dirty, unsavedWorkMs: 4000, lastSaveMs: 5000 }, 1001, policy), false);
  assert.equal(needsSave({ ...dirty, unsavedWorkMs: 5000, lastSaveMs: 5000 }, 1001, policy), true);
  assert.equal(
    needsSave({ ...dirty, unsavedWorkMs: 9000, retrySaveAt: 2000 }, 1001, policy),
    false,
    "not before a failed save's retry time",
  );
});

Deno.test("a failed save is not tried again before its retry time, and the delay grows", () => {
  const failed = kernel("k", { dirty: true, requestsSinceSave: 50, retrySaveAt: 2_000 });
  const policy = { saveIntervalMs: 1000, saveEvery: 10 };
  assert.equal(needsSave(failed, 1_999, policy), false);
  assert.equal(needsSave(failed, 2_000, policy), true);
  assert.deepEqual([1, 2, 3, 10, 30].map(retryDelayMs), [1000, 2000, 4000, 300_000, 300_000]);
});

Deno.test("a capacity refusal says why: busy kernels wait, unsavable or ephemeral idle ones cannot be stopped", () => {
  const now = 600_000;
  const busy = kernel("busy", { busy: true });
  const big = kernel("big", {
    lastActive: now - 300_000,
    saveFailed: "Cannot save the kernel: its variables hold 310 MB, more than a save can serialize",
  });
  const stdio = kernel("stdio", { persistent: false });
  assert.deepEqual(capacityRefusal([busy], new Set(), { now, waitMs: 30_000 }), {
    stuck: false,
    message: "The host is at capacity: the one live kernel stayed busy for 30 s; try again shortly",
  });
  assert.deepEqual(capacityRefusal([big], new Set(["big"]), { now, waitMs: 30_000 }), {
    stuck: true,
    message: "The host is at capacity: the one live kernel holds unsaved state that cannot be " +
      "saved (a kernel last active 5 min ago: its variables hold 310 MB, more than a save can " +
      "serialize); free memory in it, close it, or raise --max-kernels",
  });
  const mixed = capacityRefusal([busy, big, stdio], new Set(["big"]), { now, waitMs: 30_000 });
  assert.equal(mixed.stuck, false, "the busy one may finish");
  assert.equal(
    mixed.message,
    "The host is at capacity: none of the 3 live kernels could be stopped to make room (a " +
      "kernel last active 5 min ago: its variables hold 310 MB, more than a save can serialize; " +
      "1 ephemeral (never saved, so never stopped); 1 busy for 30 s); try again shortly, free " +
      "memory in it, close it, or raise --max-kernels",
  );
  assert.deepEqual(capacityRefusal([stdio], new Set(), { now, waitMs: 30_000 }), {
    stuck: true,
    message: "The host is at capacity: the one live kernel could not be stopped to make room " +
      "(1 ephemeral (never saved, so never stopped)); raise --max-kernels",
  });
  // Kernel ids are capabilities: a refusal, read by another session, never names one.
  assert.doesNotMatch(mixed.message, /"?\b(busy|big|stdio)\b"?:/);
});
