import assert from "node:assert/strict";
import { sandboxWords } from "../../src/kernel/worker/repl.ts";
import { startKernel } from "./_kernel.ts";

Deno.test("a permission refusal says the kernel's sandbox forbids it, not to run Deno again with a flag", async () => {
  assert.equal(
    sandboxWords('Requires net access to "x:1", run again with the --allow-net flag'),
    'Requires net access to "x:1": the kernel\'s sandbox forbids net access (a kernel has no ' +
      "network; npm: packages are fetched by the host)",
  );
  assert.equal(sandboxWords("nothing to change"), "nothing to change");
  await using t = await startKernel();
  const refused = await t.kernel.execute("Deno.readTextFileSync('/etc/passwd')");
  assert.match(refused.error?.message ?? "", /sandbox forbids read access outside its own folder/);
  assert.doesNotMatch(refused.error?.message ?? "", /run again/);
  assert.doesNotMatch(refused.error?.stack ?? "", /run again/);
});
