import assert from "node:assert/strict";
import { isNativeFunction, userSource } from "../../src/kernel/worker/function_source.ts";

Deno.test("userSource gives the text of functions and classes the user wrote", () => {
  const double = (n: number) => n * 2;
  class Point {
    x = 1;
  }
  assert.equal(userSource(double), String(double));
  assert.match(userSource(Point) ?? "", /^class Point \{/);
  // Only a native body marks a native function, not the words in a string.
  const quoting = new Function('return "{ [native code] }"');
  assert.equal(userSource(quoting), String(quoting));
});

Deno.test("built-in and bound functions have no source the user wrote", () => {
  const bound = function () {}.bind(null);
  for (const fn of [Math.max, Map, bound, Function.prototype]) {
    assert.equal(userSource(fn), undefined, String(fn));
    assert.equal(isNativeFunction(fn), true, String(fn));
  }
  assert.equal(isNativeFunction(() => 1), false);
});

Deno.test("a value that is not a function is neither native nor user source", () => {
  for (const value of [undefined, null, 1, "function () { [native code] }", {}]) {
    assert.equal(userSource(value), undefined);
    assert.equal(isNativeFunction(value), false);
  }
});
