/**
 * mcp-kernel-host: flags and environment → config → host → transport; signals → shutdown.
 *
 * @module
 */
import { type Config, helpText, parseConfig } from "./src/config.ts";
import { Host } from "./src/host.ts";
import { openRegistry } from "./src/registry/open_registry.ts";
import { createHttpHandler } from "./src/mcp/http.ts";
import { log, setLogLevel } from "./src/log.ts";
import { isLoopback } from "./src/loopback.ts";
import { serveStdio } from "./src/mcp/stdio.ts";
import { VERSION } from "./src/version.ts";

function fail(message: string): never {
  log("error", message);
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
  if (config.version) {
    console.log(VERSION);
    Deno.exit(0);
  }
  setLogLevel(config.logLevel);
  let prelude = "";
  if (config.prelude !== undefined) {
    try {
      prelude = await Deno.readTextFile(config.prelude);
    } catch (error) {
      fail(`cannot read --prelude ${config.prelude}: ${(error as Error).message}`);
    }
  }
  const host = new Host({
    ...config,
    preludeSource: prelude,
    registry: await openRegistry(config),
  });
  /** Stop accepting connections; each resolves once the requests in flight were answered. */
  const drains: (() => Promise<void>)[] = [];
  /** Close the sessions' transports, after their running cells were answered. */
  const closers: (() => Promise<void>)[] = [];
  let stopping = false;
  const stop = async (code: number) => {
    // A second signal exits at once.
    if (stopping) Deno.exit(130);
    stopping = true;
    const drained = Promise.allSettled(drains.map((drain) => drain()));
    // The host's grace period bounds the wait for running cells, whose replies still go out.
    await host.shutdown();
    // Long-lived streams (a client's GET stream) never finish by themselves: bounded.
    await Promise.race([drained, new Promise((r) => setTimeout(r, 2000))]);
    await Promise.allSettled(closers.map((close) => close()));
    Deno.exit(code);
  };
  Deno.addSignalListener("SIGINT", () => stop(130));
  Deno.addSignalListener("SIGTERM", () => stop(143));

  if (config.stdio) {
    log("info", "serving one client over stdio", { dataDir: config.dataDir });
    try {
      await serveStdio(host, config.kernel);
    } catch (error) {
      await host.shutdown();
      fail((error as Error).message);
    }
    await stop(0);
  } else {
    const handler = createHttpHandler({
      host,
      allowedOrigins: config.allowedOrigins,
      allowedHosts: isLoopback(config.host) ? [] : [config.host],
      authToken: config.authToken,
    });
    const server = Deno.serve({
      hostname: config.host,
      port: config.port,
      onListen: ({ hostname, port }) => {
        const shown = hostname.includes(":") ? `[${hostname}]` : hostname;
        log("info", "listening", { url: `http://${shown}:${port}/mcp`, dataDir: config.dataDir });
      },
    }, handler.fetch);
    drains.push(() => server.shutdown());
    closers.push(() => handler.close());
    // Kernels that were live before a restart start in the background; serving starts now.
    void host.rehydrate();
  }
}
