/**
 * mcp-kernel-host: flags and environment → config → host → transport; signals → shutdown.
 *
 * @module
 */
import { type Config, helpText, parseConfig } from "./src/config.ts";
import { Host } from "./src/host.ts";
import { serveStdio } from "./src/mcp/stdio.ts";

function fail(message: string): never {
  console.error(`mcp-kernel-host: ${message}`);
  Deno.exit(2);
}

if (import.meta.main) {
  const env = Deno.env.toObject();
  let config: Config;
  try {
    config = parseConfig(Deno.args, env);
  } catch (error) {
    fail((error as Error).message);
  }
  if (config.help) {
    console.log(helpText(env));
    Deno.exit(0);
  }
  if (!config.stdio) fail("the HTTP transport is not built yet; run with --stdio");
  if (config.kernel && !config.stdio) fail("--kernel applies only with --stdio");
  let prelude = "";
  if (config.prelude) {
    try {
      prelude = await Deno.readTextFile(config.prelude);
    } catch (error) {
      fail(`cannot read --prelude ${config.prelude}: ${(error as Error).message}`);
    }
  }
  const host = await Host.open({ ...config, prelude });
  let stopping = false;
  const stop = async (code: number) => {
    // A second signal exits at once.
    if (stopping) Deno.exit(130);
    stopping = true;
    await host.shutdown();
    Deno.exit(code);
  };
  Deno.addSignalListener("SIGINT", () => stop(130));
  Deno.addSignalListener("SIGTERM", () => stop(143));
  console.error(`mcp-kernel-host: serving one client over stdio (data in ${config.dataDir})`);
  try {
    await serveStdio(host, config.kernel);
  } catch (error) {
    await host.shutdown();
    fail((error as Error).message);
  }
  await stop(0);
}
