import assert from "node:assert/strict";
import { join } from "node:path";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/stdio"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ROOT } from "./_stdio.ts";

const denort = Deno.env.get("DENORT_BIN");
const available = denort !== undefined && (() => {
  try {
    return Deno.statSync(denort).isFile;
  } catch {
    return false;
  }
})();
const why = available
  ? ""
  : " [skipped: no denort runtime (set DENORT_BIN); it cannot be downloaded on these machines]";

Deno.test({
  name: `deno task compile builds one binary whose kernels run confined over stdio${why}`,
  ignore: !available,
  async fn() {
    const built = await new Deno.Command(Deno.execPath(), { args: ["task", "compile"], cwd: ROOT })
      .output();
    assert.equal(built.code, 0, new TextDecoder().decode(built.stderr));
    const dataDir = await Deno.makeTempDir({ prefix: "mkh-compiled-" });
    const transport = new StdioClientTransport({
      command: join(ROOT, "dist", "mcp-kernel-host"),
      args: ["--stdio", "--data-dir", dataDir],
      env: { ...Deno.env.toObject(), MCP_KERNEL_HOST_DENO: Deno.execPath() },
      stderr: "ignore",
    });
    const client = new Client({ name: "compiled", version: "1" });
    await client.connect(transport);
    try {
      const r = await client.callTool({
        name: "execute",
        arguments: { code: "const n: number = 41; n + 1" },
      });
      assert.equal((r.structuredContent as { result: string }).result, "42");
      const escape = await client.callTool({
        name: "execute",
        arguments: { code: "Deno.readTextFileSync('/etc/hostname')" },
      });
      assert.equal(escape.isError, true);
      assert.match(
        (escape.structuredContent as { error: { message: string } }).error.message,
        /read access/,
      );
    } finally {
      await client.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
