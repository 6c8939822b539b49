/**
 * The environment each Deno process the host starts gets, so that no cell can steer a Deno.
 *
 * Deno reads proxy, certificate and registry variables lazily, when a process first imports
 * from npm, and cells may call `Deno.env.set`: a cell could point its own sandbox's next npm
 * download at a proxy of its choosing. Hence sandboxes never download (`--cached-only`, see
 * `sandbox_process.ts`) and the host fetches their packages itself (`npm_prefetch.ts`), with
 * {@linkcode fetchEnv}, built from the host's own environment, never from a cell's.
 *
 * @module
 */

/**
 * Host variables Deno needs to fetch npm packages: cache folder, CA certificates, registry and
 * proxy. Only the host's fetches get them; a sandbox gets the cache folder and the registry
 * (which names the cache's subfolder), nothing else.
 */
const MODULE_LOADING_ENV = [
  "DENO_DIR",
  "DENO_CERT",
  "DENO_TLS_CA_STORE",
  "NODE_EXTRA_CA_CERTS",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "NPM_CONFIG_REGISTRY",
  "HTTPS_PROXY",
  "HTTP_PROXY",
  "ALL_PROXY",
  "NO_PROXY",
  "https_proxy",
  "http_proxy",
  "all_proxy",
  "no_proxy",
];

/**
 * Variables a cell may neither read nor set (`--deny-env`): those that steer how Deno 2.9.6
 * loads modules or makes connections (proxies, certificates, registry, tokens, cache folder,
 * update check). A second layer behind `--cached-only`: `Deno.env.set` and `process.env`
 * assignments of them throw `NotCapable` (reads answer "unset", see `kernel_worker.ts`). Every
 * other variable stays readable and settable, because npm packages such as supports-color and
 * debug enumerate `process.env` as they load.
 */
export const DENIED_ENV = [
  "HTTPS_PROXY",
  "HTTP_PROXY",
  "ALL_PROXY",
  "NO_PROXY",
  "https_proxy",
  "http_proxy",
  "all_proxy",
  "no_proxy",
  "NODE_USE_ENV_PROXY",
  "DENO_CERT",
  "DENO_TLS_CA_STORE",
  "DENO_NODE_USE_OPENSSL_CA",
  "NODE_EXTRA_CA_CERTS",
  "NODE_USE_SYSTEM_CA",
  "NODE_TLS_REJECT_UNAUTHORIZED",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "NPM_CONFIG_REGISTRY",
  "NPM_CONFIG_REPLACE_REGISTRY_HOST",
  "DENO_AUTH_TOKENS",
  "JSR_URL",
  "DENO_DIR",
  "DENO_NO_UPDATE_CHECK",
];

/**
 * The environment of a host-side `deno cache`: the host's module-loading variables and `HOME`
 * (for the host user's registry settings), no update check, no colour.
 */
export function fetchEnv(): Record<string, string> {
  const env: Record<string, string> = {
    NO_COLOR: "1",
    DENO_NO_UPDATE_CHECK: "1",
    DENO_DIR: hostDenoDir(),
  };
  for (const name of [...MODULE_LOADING_ENV, "HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/**
 * The whole environment of a sandbox process: the host's npm cache (used read-only, the
 * sandbox runs `--cached-only`) and registry, an empty `HOME` (so Deno reads no `~/.npmrc` of
 * the host user), and no update check (it would go through any proxy a cell sets).
 *
 * @param home An empty folder that no kernel may write.
 */
export function sandboxEnv(home: string): Record<string, string> {
  const env: Record<string, string> = {
    NO_COLOR: "1",
    DENO_NO_UPDATE_CHECK: "1",
    DENO_DIR: hostDenoDir(),
    HOME: home,
  };
  const registry = Deno.env.get("NPM_CONFIG_REGISTRY");
  if (registry !== undefined) env.NPM_CONFIG_REGISTRY = registry;
  return env;
}

/**
 * The environment of a `deno cache` that may only find packages in the cache, never download:
 * `deno cache` has no `--cached-only`, so every proxy variable names a port nothing can listen
 * on, and any download fails at once on this machine (checked with Deno 2.9.6: a cached
 * package is found in about 15 ms, a missing one fails with "Connection refused").
 *
 * @param home An empty folder (see {@linkcode emptyHome}), so no `.npmrc` adds a registry.
 */
export function lookupEnv(home: string): Record<string, string> {
  const nowhere = "http://127.0.0.1:0";
  return { ...sandboxEnv(home), HTTPS_PROXY: nowhere, HTTP_PROXY: nowhere, ALL_PROXY: nowhere };
}

let home: Promise<string> | undefined;

/**
 * An empty folder, made once per host process with a random name (a fixed name in a shared
 * temporary folder could be made first by another user, with an `.npmrc` in it), for sandboxes'
 * `HOME`. Sandboxes may write only their scratch folders, so it stays empty; it is removed when
 * the host exits.
 */
export function emptyHome(): Promise<string> {
  home ??= Deno.makeTempDir({ prefix: "mcp-kernel-host-home-" }).then((path) => {
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(path);
      } catch {
        // Already gone, or not empty after all: left in place.
      }
    });
    return path;
  });
  return home;
}

/** Deno's cache folder as Deno itself finds it, so sandboxes reuse the host's npm cache. */
function hostDenoDir(): string {
  const configured = Deno.env.get("DENO_DIR");
  if (configured) return configured;
  const home = Deno.env.get("HOME") ?? "";
  if (Deno.build.os === "darwin") return `${home}/Library/Caches/deno`;
  if (Deno.build.os === "windows") return `${Deno.env.get("LOCALAPPDATA")}\\deno`;
  return `${Deno.env.get("XDG_CACHE_HOME") ?? `${home}/.cache`}/deno`;
}
