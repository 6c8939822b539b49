/** Test helper: a Host on a temporary data folder with small, fast policy settings. */
import { parseConfig } from "../src/config.ts";
import { Host, type HostOptions } from "../src/host.ts";
import { setLogLevel } from "../src/log.ts";
import { openRegistry } from "../src/registry/open_registry.ts";

setLogLevel("warn");

/** A host plus its data folder, removed when disposed. */
export interface TestHost extends AsyncDisposable {
  host: Host;
  dataDir: string;
}

// Each test gets its own data folder, never the default per-user one.
const { dataDir: _dataDir, ...defaults } = parseConfig([], {});

/**
 * Default options for tests: the host's defaults, except that nothing is saved or culled unless
 * a test asks for it, and limits and waits are smaller so failures come quickly.
 */
export const TEST_OPTIONS: Omit<HostOptions, "dataDir" | "registry"> = {
  ...defaults,
  preludeSource: "",
  cellTimeout: 30,
  memoryLimit: 256,
  saveInterval: 3600,
  saveEvery: 1000,
  idleTimeout: 3600,
  shutdownGrace: 5,
  capacityWait: 5,
  tickMs: 100,
};

/** Opens a host; pass `dataDir` to reopen one (a host restart). */
export async function openHost(options: Partial<HostOptions> = {}): Promise<TestHost> {
  const dataDir = options.dataDir ?? await Deno.makeTempDir({ prefix: "mkh-host-" });
  const registry = options.registry ?? await openRegistry({ dataDir });
  const host = new Host({ ...TEST_OPTIONS, ...options, dataDir, registry });
  return {
    host,
    dataDir,
    async [Symbol.asyncDispose]() {
      await host.shutdown();
      if (!options.dataDir) await Deno.remove(dataDir, { recursive: true });
    },
  };
}
