import assert from "node:assert/strict";
import { ROOT } from "./_stdio.ts";
import { openHost } from "./_host.ts";

async function cli(
  dataDir: string,
  ...args: string[]
): Promise<{ code: number; out: string; err: string }> {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "sessions", ...args, "--data-dir", dataDir],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
  }).output();
  return {
    code: o.code,
    out: new TextDecoder().decode(o.stdout),
    err: new TextDecoder().decode(o.stderr),
  };
}

Deno.test("deno task sessions lists, shows and deletes stored sessions for the operator", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-cli-" });
  let kernel: string;
  try {
    {
      await using t = await openHost({ dataDir });
      kernel = await t.host.sessions.open("session-one", {
        initialize: { clientInfo: { name: "claude", version: "1.2" } },
      });
      await t.host.execute(kernel, "const x = 1; await Promise.resolve()");
      await t.host.save(kernel);
    }
    const listed = await cli(dataDir);
    assert.equal(listed.code, 0, listed.err);
    assert.match(listed.out, /^session\s+state\s+created\s+last active\s+kernels\s+cells\n/);
    assert.match(listed.out, /session-one\s+open\s+\S+\s+\S+\s+1\s+1/);

    const asJson = JSON.parse((await cli(dataDir, "--json")).out);
    assert.equal(asJson.sessions[0].id, "session-one");
    assert.equal(asJson.sessions[0].kernels[0].id, kernel);
    assert.notEqual(kernel, "session-one", "the default kernel's id is not the session's");

    const shown = await cli(dataDir, "show", "session-one");
    assert.match(shown.out, /client claude 1\.2/);
    assert.match(shown.out, /snapshot v1 /);

    const deleted = await cli(dataDir, "delete", "session-one");
    assert.equal(deleted.code, 0);
    const after = JSON.parse((await cli(dataDir, "show", "session-one", "--json")).out);
    assert.ok(after.session.endedAt, "the session is ended");
    assert.deepEqual(after.kernels, []);

    const missing = await cli(dataDir, "show", "nope");
    assert.equal(missing.code, 1);
    assert.match(missing.err, /No session or kernel with id "nope"/);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
