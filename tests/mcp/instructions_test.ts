import assert from "node:assert/strict";
import { BUILTIN_PRELUDES } from "../../src/builtin_preludes.ts";
import { instructions } from "../../src/mcp/instructions.ts";

const LIMITS = { cellTimeoutS: 60, memoryLimitMb: 512, diskQuotaMb: 1024, prelude: false };

Deno.test("the instructions say what a prelude gives: the data prelude's names, or that one runs", () => {
  const none = instructions(LIMITS, { sessionless: false });
  assert.doesNotMatch(none, /prelude/);
  const file = instructions({ ...LIMITS, prelude: true }, { sessionless: false });
  assert.match(file, /A prelude runs in every new or reset kernel: its names are usable/);
  const data = instructions(
    { ...LIMITS, prelude: true, preludeDefines: BUILTIN_PRELUDES.data!.defines },
    { sessionless: false },
  );
  assert.match(data, /Every kernel starts with these names loaded \(a prelude\): aq and op/);
  for (const name of ["csvParse", "autoType", "ss.mean", "chart(spec)"]) {
    assert.ok(data.includes(name), name);
  }
  assert.doesNotMatch(data, /A prelude runs/);
});
