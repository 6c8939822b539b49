/**
 * mcp-kernel-host: flags and environment → config → host → transport; signals → host.close().
 *
 * @module
 */
import { helpText, parseConfig } from "./src/config.ts";
import { Host } from "./src/host.ts";
import { serveStdio } from "./src/mcp/stdio.ts";

if (import.meta.main) {
  const env = Deno.env.toObject();
  let config;
  try {
    config = parseConfig(Deno.args, env);
  } catch (error) {
    console.error(`mcp-kernel-host: ${(error as Error).message}`);
    Deno.exit(2);
  }
  if (config.help) {
    console.log(helpText(env));
    Deno.exit(0);
  }
  if (!config.stdio) {
    console.error("mcp-kernel-host: the HTTP transport is not built yet; run with --stdio");
    Deno.exit(2);
  }
  let prelude = "";
  if (config.prelude) {
    try {
      prelude = await Deno.readTextFile(config.prelude);
    } catch (error) {
      console.error(`mcp-kernel-host: cannot read --prelude ${config.prelude}: ${error}`);
      Deno.exit(2);
    }
  }
  const host = new Host({ ...config, prelude });
  let stopping = false;
  const stop = async () => {
    // A second signal exits at once.
    if (stopping) Deno.exit(130);
    stopping = true;
    await host.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  console.error(`mcp-kernel-host: serving one client over stdio (data in ${config.dataDir})`);
  await serveStdio(host);
  await host.close();
  Deno.exit(0);
}
