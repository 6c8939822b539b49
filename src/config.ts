/**
 * The host's configuration: every flag, its environment twin, default, unit and range, and the
 * parser that turns `Deno.args` and the environment into one validated {@linkcode Config}.
 *
 * @module
 */
import { join } from "node:path";
import { isLoopback } from "./loopback.ts";
import { LOG_LEVELS, type LogLevel } from "./log.ts";
import { VERSION } from "./version.ts";

/**
 * Everything the host needs to start, parsed once: callers never re-parse a field. Durations are
 * in seconds, memory in MB; an optional field is absent when not set.
 */
export interface Config {
  /** Serve one client over stdin/stdout instead of HTTP. */
  stdio: boolean;
  /** Folder for the registry and the kernels' scratch folders. */
  dataDir: string;
  /** A `postgres://` URL of a PostgreSQL registry; absent: SQLite at `<dataDir>/registry.db`. */
  registryUrl?: string;
  /**
   * Seconds a kernel's lease lasts unless renewed, with a registry shared by several hosts: how
   * long a dead host's kernels wait before another host takes them over.
   */
  leaseTtl: number;
  /** Address the HTTP server binds. */
  host: string;
  /** Port the HTTP server listens on (0: any free port). */
  port: number;
  /** Origins allowed besides local ones, as browsers send them (`https://app.example`). */
  allowedOrigins: string[];
  /** Bearer token every HTTP request must carry; absent: none. */
  authToken?: string;
  /** File whose first line is the bearer token (read at start, see `readAuthToken`). */
  authTokenFile?: string;
  /** Seconds a cell may run before its kernel is stopped and restarted. */
  cellTimeout: number;
  /** Memory limit per kernel in MB (V8 heap limit and resident-memory watchdog). */
  memoryLimit: number;
  /** Path of the file whose TypeScript runs in every new or reset kernel; absent: none. */
  prelude?: string;
  /** With `stdio`: the name of a persistent kernel to open or create; absent: ephemeral. */
  kernel?: string;
  /** Live kernels at most. */
  maxKernels: number;
  /** Sandboxes kept started for new kernels (not counted in `maxKernels`); 0: none. */
  spareKernels: number;
  /** Seconds after a kernel's first unsaved change before it is saved. */
  saveInterval: number;
  /** Requests after which a kernel is saved at once. */
  saveEvery: number;
  /** Seconds of inactivity after which a kernel is saved and stopped (resumable). */
  idleTimeout: number;
  /** Snapshot versions kept per kernel. */
  snapshotVersions: number;
  /** Seconds running cells get to finish at shutdown. */
  shutdownGrace: number;
  /** Seconds a new kernel waits for a live slot when every live kernel is busy. */
  capacityWait: number;
  /** Per kernel: MB its scratch folder may hold. */
  diskQuota: number;
  /** Per kernel: files its scratch folder may hold. */
  maxFiles: number;
  /** Seconds after which an idle 2025-11-25 session is ended (its kernels stay stored). */
  sessionIdleTimeout: number;
  /** Days after which an idle stored kernel is deleted, named ones excepted; 0: never. */
  retention: number;
  /** Open sessions plus kernels created without a session, at most. */
  maxSessions: number;
  /** npm packages kernels may import, by name; absent: every package. */
  npmAllow?: string[];
  /** Characters of text one tool result gives a model, about; the rest is cut with a note. */
  outputLimit: number;
  /** Least severe log level written to stderr. */
  logLevel: LogLevel;
  /** Print the flags and exit. */
  help: boolean;
  /** Print the version and exit. */
  version: boolean;
}

interface FlagSpec {
  key: keyof Config;
  flag: string;
  /**
   * `optional`: a string whose empty value means unset; `origins`, `packages`: comma-separated
   * lists (an empty `packages` list means unset).
   */
  kind: "boolean" | "integer" | "string" | "optional" | "origins" | "packages";
  unit?: string;
  min?: number;
  max?: number;
  /** Allowed values of a string flag. */
  choices?: readonly string[];
  /** False for flags that only make sense on the command line (`--help`, `--version`). */
  env?: false;
  /** How the value is shown in `--help`, e.g. `file` (default: the unit or the kind). */
  value?: string;
  /** How an unset default is shown in `--help` (default: `none`). */
  unset?: string;
  help: string;
  default: (env: Record<string, string>) => Config[keyof Config];
}

const FLAGS: FlagSpec[] = [
  {
    key: "stdio",
    flag: "--stdio",
    kind: "boolean",
    help: "serve one client over stdin/stdout",
    default: () => false,
  },
  {
    key: "dataDir",
    flag: "--data-dir",
    kind: "string",
    value: "dir",
    help: "registry and kernel scratch folders",
    default: defaultDataDir,
  },
  {
    key: "registryUrl",
    flag: "--registry",
    kind: "optional",
    value: "url",
    unset: "SQLite at <data-dir>/registry.db",
    help: "PostgreSQL registry as postgres://user@host:5432/db (a socket folder: ?host=/dir; " +
      "the password in PGPASSWORD, not the URL: a command line is visible to every local user)",
    default: () => undefined,
  },
  {
    key: "leaseTtl",
    flag: "--lease-ttl",
    kind: "integer",
    unit: "s",
    min: 3,
    max: 3600,
    help: "with a shared (PostgreSQL) registry: how long a kernel's lease lasts unless " +
      "renewed, so how soon another host takes over the kernels of a host that died",
    default: () => 15,
  },
  {
    key: "host",
    flag: "--host",
    kind: "string",
    value: "address",
    help: "address the HTTP server binds (beyond loopback needs --auth-token)",
    default: () => "127.0.0.1",
  },
  {
    key: "port",
    flag: "--port",
    kind: "integer",
    value: "port",
    min: 0,
    max: 65_535,
    help: "HTTP port (0: any free port)",
    default: () => 8000,
  },
  {
    key: "allowedOrigins",
    flag: "--allowed-origins",
    kind: "origins",
    value: "origins",
    help: "comma-separated browser origins allowed besides localhost",
    default: () => [],
  },
  {
    key: "authToken",
    flag: "--auth-token",
    kind: "optional",
    value: "token",
    help:
      "bearer token required on every HTTP request (prefer the variable or --auth-token-file: " +
      "a command line is visible to every local user)",
    default: () => undefined,
  },
  {
    key: "authTokenFile",
    flag: "--auth-token-file",
    kind: "optional",
    value: "file",
    help: "read the bearer token from this file (its first line)",
    default: () => undefined,
  },
  {
    key: "cellTimeout",
    flag: "--cell-timeout",
    kind: "integer",
    unit: "s",
    min: 1,
    max: 86_400,
    help: "time a cell may run before its kernel is restarted",
    default: () => 60,
  },
  {
    key: "memoryLimit",
    flag: "--memory-limit",
    kind: "integer",
    unit: "MB",
    min: 64,
    max: 65_536,
    help: "memory per kernel (V8 heap and resident memory)",
    default: () => 512,
  },
  {
    key: "prelude",
    flag: "--prelude",
    kind: "optional",
    value: "file|data",
    help: "TypeScript file run in every new or reset kernel; data: the built-in data prelude " +
      "(arquero, d3-dsv, simple-statistics, chart)",
    default: () => undefined,
  },
  {
    key: "kernel",
    flag: "--kernel",
    kind: "optional",
    value: "name",
    help: "with --stdio: a persistent kernel saved under this name",
    default: () => undefined,
  },
  {
    key: "maxKernels",
    flag: "--max-kernels",
    kind: "integer",
    value: "count",
    min: 1,
    max: 1000,
    help: "live kernels at most; the least recently used idle one is saved and stopped",
    default: () => 4,
  },
  {
    key: "spareKernels",
    flag: "--spare-kernels",
    kind: "integer",
    value: "count",
    min: 0,
    max: 100,
    help: "sandboxes kept started so a new kernel is ready at once (0: none); " +
      "not counted in --max-kernels",
    default: () => 1,
  },
  {
    key: "saveInterval",
    flag: "--save-interval",
    kind: "integer",
    unit: "s",
    min: 1,
    max: 86_400,
    help: "save a changed kernel this long after its first unsaved change",
    default: () => 15,
  },
  {
    key: "saveEvery",
    flag: "--save-every",
    kind: "integer",
    unit: "requests",
    min: 1,
    max: 1_000_000,
    help: "save a kernel at once after this many requests",
    default: () => 10,
  },
  {
    key: "idleTimeout",
    flag: "--idle-timeout",
    kind: "integer",
    unit: "s",
    min: 1,
    max: 31_536_000,
    help: "save and stop a kernel idle this long (it stays resumable)",
    default: () => 1800,
  },
  {
    key: "snapshotVersions",
    flag: "--snapshot-versions",
    kind: "integer",
    value: "count",
    min: 1,
    max: 100,
    help: "snapshot versions kept per kernel",
    default: () => 3,
  },
  {
    key: "shutdownGrace",
    flag: "--shutdown-grace",
    kind: "integer",
    unit: "s",
    min: 0,
    max: 3600,
    help: "time running cells get to finish on SIGINT/SIGTERM",
    default: () => 10,
  },
  {
    key: "capacityWait",
    flag: "--capacity-wait",
    kind: "integer",
    unit: "s",
    min: 0,
    max: 3600,
    help: "time a new kernel waits for a slot when all live kernels are busy",
    default: () => 30,
  },
  {
    key: "diskQuota",
    flag: "--disk-quota",
    kind: "integer",
    unit: "MB",
    min: 1,
    max: 10_000_000,
    help:
      "per kernel: bytes its folder may hold; a write past it fails, a cell growing past it stops",
    default: () => 1024,
  },
  {
    key: "maxFiles",
    flag: "--max-files",
    kind: "integer",
    value: "count",
    min: 1,
    max: 10_000_000,
    help: "per kernel: files its folder may hold",
    default: () => 10_000,
  },
  {
    key: "sessionIdleTimeout",
    flag: "--session-idle-timeout",
    kind: "integer",
    unit: "s",
    min: 1,
    max: 31_536_000,
    help: "end a 2025-11-25 session idle this long (its id then gets 404; its kernels stay)",
    default: () => 86_400,
  },
  {
    key: "retention",
    flag: "--retention",
    kind: "integer",
    unit: "days",
    min: 0,
    max: 36_500,
    help: "delete a stored kernel idle this long, named ones excepted (0: keep them all)",
    default: () => 30,
  },
  {
    key: "maxSessions",
    flag: "--max-sessions",
    kind: "integer",
    value: "count",
    min: 1,
    max: 10_000_000,
    help: "open sessions plus kernels created without one, at most",
    default: () => 100_000,
  },
  {
    key: "npmAllow",
    flag: "--npm-allow",
    kind: "packages",
    value: "names",
    unset: "all packages",
    help: "comma-separated npm packages kernels may import; others are not fetched",
    default: () => undefined,
  },
  {
    key: "outputLimit",
    flag: "--output-limit",
    kind: "integer",
    unit: "characters",
    min: 1000,
    max: 10_000_000,
    help: "text one tool result gives a model; the rest is cut with a note",
    default: () => 20_000,
  },
  {
    key: "logLevel",
    flag: "--log-level",
    kind: "string",
    value: "level",
    choices: LOG_LEVELS,
    help: "least severe log level written to stderr (JSON lines)",
    default: () => "info",
  },
  {
    key: "help",
    flag: "--help",
    kind: "boolean",
    env: false,
    help: "show this help and exit",
    default: () => false,
  },
  {
    key: "version",
    flag: "--version",
    kind: "boolean",
    env: false,
    help: "show the version and exit",
    default: () => false,
  },
];

/** `--max-kernels` → `MCP_KERNEL_HOST_MAX_KERNELS`. */
export function envName(flag: string): string {
  return `MCP_KERNEL_HOST_${flag.replace(/^--/, "").replaceAll("-", "_").toUpperCase()}`;
}

/**
 * Builds the configuration from command-line arguments and the environment; a flag beats its
 * environment variable, which beats the default. Then checks the rules between flags with
 * {@linkcode validateConfig}, unless `--help` or `--version` asks for nothing to start.
 *
 * @example Tests and scripts start from the defaults and override what they need
 * ```ts
 * const config = { ...parseConfig([], {}), cellTimeout: 5 };
 * ```
 *
 * @throws {RangeError} For an unknown flag, a value outside its range or a combination of flags
 * that cannot start, naming the flags and the value.
 */
export function parseConfig(args: string[], env: Record<string, string>): Config {
  const values = new Map<FlagSpec, string>();
  for (const spec of FLAGS) {
    const fromEnv = env[envName(spec.flag)];
    if (fromEnv !== undefined && spec.env !== false) values.set(spec, fromEnv);
  }
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i]!.split(/=(.*)/s, 2);
    const next = args[i + 1];
    const spec = FLAGS.find((s) => s.flag === flag);
    if (!spec) throw new RangeError(`Unknown flag ${flag}; --help lists the flags`);
    if (spec.kind === "boolean") values.set(spec, inline ?? "true");
    else if (inline !== undefined) values.set(spec, inline);
    else if (next !== undefined) {
      values.set(spec, next);
      i++;
    } else throw new RangeError(`Flag ${flag} needs a value`);
  }
  const config = {} as Record<keyof Config, unknown>;
  for (const spec of FLAGS) {
    const raw = values.get(spec);
    config[spec.key] = raw === undefined ? spec.default(env) : parseValue(spec, raw);
  }
  const parsed = config as unknown as Config;
  if (!parsed.help && !parsed.version) validateConfig(parsed);
  return parsed;
}

/**
 * Checks the rules between fields that no single flag's range can express: `--kernel` needs
 * `--stdio`, `--registry` is a PostgreSQL URL, and serving HTTP beyond loopback needs
 * `--auth-token`.
 *
 * @throws {RangeError} For a combination that cannot start, naming the flags and the value.
 */
export function validateConfig(config: Config): void {
  if (config.kernel !== undefined && !config.stdio) {
    throw new RangeError(
      `Cannot open --kernel ${config.kernel}: --kernel applies only with --stdio`,
    );
  }
  if (config.registryUrl !== undefined) {
    const scheme = URL.parse(config.registryUrl)?.protocol;
    if (scheme !== "postgres:" && scheme !== "postgresql:") {
      // The value is not echoed: a URL may hold a password.
      throw new RangeError(
        `Invalid value for --registry: ${scheme ? `a ${scheme} URL` : "not a URL"} (expected a ` +
          "postgres:// or postgresql:// URL such as postgres://user@localhost:5432/mcp)",
      );
    }
  }
  if (config.authToken !== undefined && config.authTokenFile !== undefined) {
    throw new RangeError("Cannot use both --auth-token and --auth-token-file: give one");
  }
  const token = config.authToken ?? config.authTokenFile;
  if (!config.stdio && !isLoopback(config.host) && token === undefined) {
    throw new RangeError(
      `Cannot serve HTTP: binding ${config.host} beyond loopback requires --auth-token or ` +
        "--auth-token-file (or a loopback --host)",
    );
  }
}

function parseValue(spec: FlagSpec, raw: string): Config[keyof Config] {
  // An empty value unsets, so an exported variable can be cleared with `VAR=`.
  if (spec.kind === "optional") return raw === "" ? undefined : raw;
  if (spec.kind === "origins") return parseOrigins(spec.flag, raw);
  if (spec.kind === "packages") return parsePackages(spec.flag, raw);
  if (spec.kind === "string") {
    if (spec.choices && !spec.choices.includes(raw)) {
      throw new RangeError(
        `Invalid value for ${spec.flag}: "${raw}" (expected one of ${spec.choices.join(", ")})`,
      );
    }
    return raw;
  }
  if (spec.kind === "boolean") {
    if (/^(1|true|yes)$/i.test(raw)) return true;
    if (/^(0|false|no)$/i.test(raw)) return false;
    throw new RangeError(`Invalid value for ${spec.flag}: "${raw}" (expected true or false)`);
  }
  const n = Number(raw);
  const range = `${spec.min} to ${spec.max}${spec.unit ? ` ${spec.unit}` : ""}`;
  if (!/^\s*\d+\s*$/.test(raw) || n < spec.min! || n > spec.max!) {
    throw new RangeError(
      `Invalid value for ${spec.flag}: "${raw}" (expected a whole number from ${range})`,
    );
  }
  return n;
}

/**
 * `https://App.Example, http://localhost:3000/` → `["https://app.example", "http://localhost:3000"]`.
 * Browsers send an `Origin` without path, lower-cased and without the default port, and the HTTP
 * handler compares it exactly, so each entry is normalized to that form or refused.
 */
function parseOrigins(flag: string, raw: string): string[] {
  return raw.split(",").map((entry) => entry.trim()).filter(Boolean).map((entry) => {
    const url = URL.parse(entry);
    if (!url || !/^https?:$/.test(url.protocol) || url.href !== `${url.origin}/`) {
      throw new RangeError(
        `Invalid value for ${flag}: "${entry}" (expected http or https origins such as ` +
          "https://app.example, comma-separated, without a path)",
      );
    }
    return url.origin;
  });
}

/** `superjson, @scope/pkg` → `["superjson", "@scope/pkg"]`; nothing listed means unset. */
function parsePackages(flag: string, raw: string): string[] | undefined {
  const names = raw.split(",").map((entry) => entry.trim()).filter(Boolean);
  for (const name of names) {
    if (!/^(@[a-z0-9~-][a-z0-9._~-]*\/)?[a-z0-9~-][a-z0-9._~-]*$/.test(name)) {
      throw new RangeError(
        `Invalid value for ${flag}: "${name}" (expected npm package names such as superjson ` +
          "or @scope/name, comma-separated, without versions)",
      );
    }
  }
  return names.length > 0 ? names : undefined;
}

/** The text `--help` prints: every flag with its variable, default and unit. */
export function helpText(env: Record<string, string>): string {
  const rows = FLAGS.map((s) => {
    const value = s.kind === "boolean" ? "" : ` <${s.value ?? s.unit ?? s.kind}>`;
    const fallback = s.default(env);
    const none = fallback === undefined || (Array.isArray(fallback) && fallback.length === 0);
    const shown = none ? s.unset ?? "none" : `${fallback}${s.unit ? ` ${s.unit}` : ""}`;
    const range = s.min !== undefined ? `, ${s.min}–${s.max}` : "";
    const twin = s.env === false ? "" : `\n      env ${envName(s.flag)}`;
    const about = s.kind === "boolean" ? s.help : `${s.help} (default ${shown}${range})`;
    return `  ${s.flag}${value}\n      ${about}${twin}`;
  });
  return [
    `mcp-kernel-host ${VERSION}: an MCP server with a stateful TypeScript kernel per session`,
    "",
    "Usage: deno task serve [flags]",
    "",
    ...rows,
  ].join("\n");
}

/** `$XDG_DATA_HOME/mcp-kernel-host`, else `~/.local/share/mcp-kernel-host`; never the cwd. */
function defaultDataDir(env: Record<string, string>): string {
  const base = env.XDG_DATA_HOME || join(env.HOME ?? env.USERPROFILE ?? "/tmp", ".local", "share");
  return join(base, "mcp-kernel-host");
}

/**
 * The bearer token: `--auth-token`, or the first line of `--auth-token-file`.
 *
 * @throws {Error} When the file cannot be read or its first line is empty.
 */
export async function readAuthToken(config: Config): Promise<string | undefined> {
  if (config.authTokenFile === undefined) return config.authToken;
  const text = await Deno.readTextFile(config.authTokenFile);
  const token = text.split(/\r?\n/, 1)[0]!.trim();
  if (token === "") throw new Error(`the first line of ${config.authTokenFile} is empty`);
  return token;
}
