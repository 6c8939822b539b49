/**
 * mcp-kernel-host: flags and environment → config → host → transport; signals → shutdown; a
 * stray rejected promise is logged, never fatal.
 *
 * @module
 */
import { type Config, helpText, parseConfig, readAuthToken } from "./src/config.ts";
import { choosePrelude, type PreludeChoice } from "./src/builtin_preludes.ts";
import { DataDirInUseError, lockDataDir } from "./src/data_dir_lock.ts";
import { Host, type ShutdownReport } from "./src/host.ts";
import { openRegistry } from "./src/registry/open_registry.ts";
import type { Registry } from "./src/registry/registry.ts";
import { createHttpHandler } from "./src/mcp/http.ts";
import { log, setLogLevel } from "./src/log.ts";
import { watchLauncher } from "./src/launcher_watch.ts";
import { isLoopback } from "./src/loopback.ts";
import { serveStdio } from "./src/mcp/stdio.ts";
import { guardRejections } from "./src/rejection_guard.ts";
import { VERSION } from "./src/version.ts";

/** Signals this close together are one: see `stop`. */
const SAME_SIGNAL_MS = 1000;

function fail(message: string): never {
  log("error", message);
  Deno.exit(2);
}

/** Logs what the shutdown saved, by count: ids never go into an info line. */
function logShutdown(report: ShutdownReport): void {
  const kernels = (n: number) => `${n} ${n === 1 ? "kernel" : "kernels"}`;
  log("info", `saved ${kernels(report.saved)} before exit`, { saved: report.saved });
  if (report.failed.length > 0) {
    log(
      "error",
      `could not save ${kernels(report.failed.length)} before exit; ` +
        "their changes since their last save are lost",
      { failed: report.failed.length, reasons: [...new Set(report.failed)] },
    );
  }
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
  guardRejections();
  let authToken: string | undefined;
  try {
    authToken = await readAuthToken(config);
  } catch (error) {
    fail(`cannot read --auth-token-file: ${(error as Error).message}`);
  }
  let prelude: PreludeChoice = { source: "" };
  if (config.prelude !== undefined) {
    try {
      prelude = await choosePrelude(config.prelude, config.npmAllow);
    } catch (error) {
      fail(`cannot use --prelude ${config.prelude}: ${(error as Error).message}`);
    }
  }
  // Only HTTP locks the folder: stdio servers and `deno task sessions` share it (see
  // data_dir_lock.ts). The lock is held until the process ends.
  let dataLock: Deno.FsFile | undefined;
  let registry: Registry;
  try {
    if (!config.stdio) dataLock = await lockDataDir(config.dataDir);
    registry = await openRegistry(config);
  } catch (error) {
    fail(
      // A PostgreSQL registry's error names its URL (without the password) already.
      error instanceof DataDirInUseError || config.registryUrl !== undefined
        ? (error as Error).message
        : `Cannot use --data-dir ${config.dataDir}: ${(error as Error).message}`,
    );
  }
  const host = new Host({
    ...config,
    preludeSource: prelude.source,
    preludeDefines: prelude.defines,
    registry,
  });
  /** Stop accepting connections; each resolves once the requests in flight were answered. */
  const drains: (() => Promise<void>)[] = [];
  /** Close the sessions' transports, after their running cells were answered. */
  const closers: (() => Promise<void>)[] = [];
  let stoppingSince: number | undefined;
  const stop = async (code: number) => {
    if (stoppingSince !== undefined) {
      // A second signal exits at once. Ctrl-C arrives twice within a millisecond, though: from
      // the terminal (to the whole process group) and forwarded by `deno task`.
      if (performance.now() - stoppingSince > SAME_SIGNAL_MS) Deno.exit(130);
      return;
    }
    stoppingSince = performance.now();
    launcher?.close();
    const drained = Promise.allSettled(drains.map((drain) => drain()));
    // The host's grace period bounds the wait for running cells, whose replies still go out.
    logShutdown(await host.shutdown());
    // Long-lived streams (a client's GET stream) never finish by themselves: bounded.
    await Promise.race([drained, new Promise((r) => setTimeout(r, 2000))]);
    await Promise.allSettled(closers.map((close) => close()));
    dataLock?.close();
    Deno.exit(code);
  };
  Deno.addSignalListener("SIGINT", () => stop(130));
  Deno.addSignalListener("SIGTERM", () => stop(143));
  // npx does not pass SIGTERM on to the server (see launcher_watch.ts): its end counts as one.
  const launcher = watchLauncher(() => {
    if (stoppingSince !== undefined) return;
    log("info", "the npm exec (npx) process that started this server ended; stopping");
    void stop(143);
  });

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
      authToken,
    });
    let server: Deno.HttpServer;
    try {
      server = Deno.serve({
        hostname: config.host,
        port: config.port,
        onListen: ({ hostname, port }) => {
          const shown = hostname.includes(":") ? `[${hostname}]` : hostname;
          log("info", "listening", {
            url: `http://${shown}:${port}/mcp`,
            dataDir: config.dataDir,
            // The lease holder id other hosts' errors name, with a shared registry.
            ...(host.identity && { holder: host.identity.holder }),
          });
        },
      }, handler.fetch);
    } catch (error) {
      await host.shutdown();
      const why = error instanceof Deno.errors.AddrInUse
        ? "the address is already in use; stop the process using it or choose another --port"
        : (error as Error).message;
      fail(`Cannot listen on ${config.host}:${config.port}: ${why}`);
    }
    drains.push(() => server.shutdown());
    closers.push(() => handler.close());
    // Kernels that were live before a restart start in the background; serving starts now.
    void host.rehydrate();
  }
}
