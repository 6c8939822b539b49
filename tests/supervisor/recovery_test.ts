import assert from "node:assert/strict";
import { describeSkipped } from "../../src/supervisor/recovery.ts";

Deno.test("skipped items are told by variable, so many parts of one cannot hide another", () => {
  const items = [
    ...Array.from({ length: 30 }, (_, i) => ({ path: `view._items[${i}]`, reason: "r" })),
    { path: "view", reason: "whole" },
    { path: "next", reason: "a closure" },
  ];
  assert.equal(
    describeSkipped(items),
    "view (whole) and 30 more parts of it, next (a closure)",
  );
  const many = Array.from({ length: 22 }, (_, i) => ({ path: `v${i}`, reason: "x" }));
  assert.match(describeSkipped(many), /v19 \(x\) and 2 more variables$/);
});
