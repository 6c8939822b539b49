import assert from "node:assert/strict";
import {
  type Config,
  envName,
  helpText,
  parseConfig,
  readAuthToken,
  validateConfig,
} from "../src/config.ts";
import { LOG_LEVELS } from "../src/log.ts";
import { VERSION } from "../src/version.ts";

const ENV = { HOME: "/home/u" };

Deno.test("defaults: HTTP mode, per-user data folder, 60 s cells, 512 MB kernels", () => {
  const c = parseConfig([], ENV);
  assert.equal(c.stdio, false);
  assert.equal(c.dataDir, "/home/u/.local/share/mcp-kernel-host");
  assert.equal(c.cellTimeout, 60);
  assert.equal(c.memoryLimit, 512);
  assert.equal(parseConfig([], { ...ENV, XDG_DATA_HOME: "/x" }).dataDir, "/x/mcp-kernel-host");
});

Deno.test("unset optional values are absent, not empty strings", () => {
  const c = parseConfig([], ENV);
  assert.deepEqual(c.allowedOrigins, []);
  assert.equal(c.authToken, undefined);
  assert.equal(c.prelude, undefined);
  assert.equal(c.kernel, undefined);
  assert.equal(c.logLevel, "info");
  const given = parseConfig(
    ["--stdio", "--kernel", "k", "--prelude=p.ts", "--auth-token", "t"],
    ENV,
  );
  assert.equal(given.kernel, "k");
  assert.equal(given.prelude, "p.ts");
  assert.equal(given.authToken, "t");
  // An empty variable clears its setting, so it cannot stand for an empty token.
  const cleared = parseConfig([], {
    ...ENV,
    MCP_KERNEL_HOST_AUTH_TOKEN: "",
    MCP_KERNEL_HOST_PRELUDE: "",
  });
  assert.equal(cleared.authToken, undefined);
  assert.equal(cleared.prelude, undefined);
});

Deno.test("--allowed-origins becomes a list of trimmed origins in the form browsers send", () => {
  assert.deepEqual(
    parseConfig(["--allowed-origins", " https://app.example , ,http://localhost:3000,"], ENV)
      .allowedOrigins,
    ["https://app.example", "http://localhost:3000"],
  );
  // Browsers send no trailing slash, a lower-case host and no default port.
  assert.deepEqual(
    parseConfig([], { ...ENV, MCP_KERNEL_HOST_ALLOWED_ORIGINS: "https://App.Example:443/" })
      .allowedOrigins,
    ["https://app.example"],
  );
});

Deno.test("an entry of --allowed-origins that is not an origin is refused, naming flag and entry", () => {
  for (const bad of ["app.example", "https://app.example/path", "https://a.example?x", "*"]) {
    assert.throws(() => parseConfig(["--allowed-origins", `https://ok.example,${bad}`], ENV), {
      name: "RangeError",
      message: `Invalid value for --allowed-origins: "${bad}" (expected http or https origins ` +
        "such as https://app.example, comma-separated, without a path)",
    });
  }
  assert.throws(
    () => parseConfig([], { ...ENV, MCP_KERNEL_HOST_ALLOWED_ORIGINS: "ftp://files.example" }),
    { name: "RangeError", message: /--allowed-origins: "ftp:\/\/files\.example"/ },
  );
});

Deno.test("validateConfig: --kernel needs --stdio", () => {
  const http = parseConfig([], ENV);
  assert.throws(() => validateConfig({ ...http, kernel: "analysis" }), {
    name: "RangeError",
    message: "Cannot open --kernel analysis: --kernel applies only with --stdio",
  });
  validateConfig({ ...http, stdio: true, kernel: "analysis" });
  // parseConfig applies the same rule.
  assert.throws(() => parseConfig(["--kernel", "analysis"], ENV), {
    message: /--kernel applies only with --stdio/,
  });
});

Deno.test("validateConfig: HTTP beyond loopback needs --auth-token; loopback and stdio do not", () => {
  const http: Config = parseConfig([], ENV);
  const refusal = {
    name: "RangeError",
    message: "Cannot serve HTTP: binding 0.0.0.0 beyond loopback requires --auth-token or " +
      "--auth-token-file (or a loopback --host)",
  };
  assert.throws(() => validateConfig({ ...http, host: "0.0.0.0" }), refusal);
  assert.throws(() => parseConfig(["--host", "0.0.0.0"], ENV), refusal);
  validateConfig({ ...http, host: "0.0.0.0", authToken: "t" });
  validateConfig({ ...http, host: "0.0.0.0", authTokenFile: "token.txt" });
  assert.throws(() => validateConfig({ ...http, authToken: "t", authTokenFile: "f" }), {
    message: "Cannot use both --auth-token and --auth-token-file: give one",
  });
  validateConfig({ ...http, host: "0.0.0.0", stdio: true });
  for (const host of ["127.0.0.1", "localhost", "LOCALHOST", "::1", "[::1]"]) {
    validateConfig({ ...http, host });
  }
  assert.throws(() => validateConfig({ ...http, host: "192.168.1.2" }), {
    message: /binding 192\.168\.1\.2 beyond loopback/,
  });
});

Deno.test("--help and --version are answered even when the other flags could not start", () => {
  assert.equal(parseConfig(["--kernel", "k", "--help"], ENV).help, true);
  assert.equal(parseConfig(["--host", "0.0.0.0", "--version"], ENV).version, true);
  // They have no environment twin: a variable cannot turn every start into a help page.
  assert.equal(parseConfig([], { ...ENV, MCP_KERNEL_HOST_VERSION: "true" }).version, false);
});

Deno.test("a flag beats its environment twin, which beats the default", () => {
  const env = { ...ENV, MCP_KERNEL_HOST_CELL_TIMEOUT: "5", MCP_KERNEL_HOST_STDIO: "true" };
  assert.equal(parseConfig([], env).cellTimeout, 5);
  assert.equal(parseConfig([], env).stdio, true);
  assert.equal(parseConfig(["--cell-timeout", "7"], env).cellTimeout, 7);
  assert.equal(parseConfig(["--cell-timeout=8"], env).cellTimeout, 8);
  assert.equal(envName("--memory-limit"), "MCP_KERNEL_HOST_MEMORY_LIMIT");
});

Deno.test("invalid values are refused naming the flag, the value and the range", () => {
  assert.throws(() => parseConfig(["--memory-limit", "16"], ENV), {
    name: "RangeError",
    message: 'Invalid value for --memory-limit: "16" (expected a whole number from 64 to 65536 MB)',
  });
  assert.throws(() => parseConfig([], { ...ENV, MCP_KERNEL_HOST_CELL_TIMEOUT: "soon" }), {
    message: /--cell-timeout: "soon"/,
  });
  assert.throws(() => parseConfig(["--nope"], ENV), { message: /Unknown flag --nope/ });
  assert.throws(() => parseConfig(["--log-level", "loud"], ENV), {
    message: 'Invalid value for --log-level: "loud" (expected one of debug, info, warn, error)',
  });
  for (const level of LOG_LEVELS) {
    assert.equal(parseConfig(["--log-level", level], ENV).logLevel, level);
  }

  assert.throws(() => parseConfig(["--prelude"], ENV), { message: /--prelude needs a value/ });
});

Deno.test("--help lists every flag with its variable, default and unit", () => {
  const text = helpText(ENV);
  for (const flag of ["--stdio", "--data-dir", "--cell-timeout", "--memory-limit", "--prelude"]) {
    assert.match(text, new RegExp(flag));
    assert.match(text, new RegExp(envName(flag)));
  }
  assert.match(text, /default 512 MB, 64–65536/);
  assert.match(text, /default 60 s, 1–86400/);
  assert.match(text, /--prelude <file\|data>/);
  assert.doesNotMatch(text, /MCP_KERNEL_HOST_HELP/, "--help has no environment twin");
  assert.match(text, /--allowed-origins <origins>\n.*\(default none\)/);
  assert.match(text, /--auth-token <token>\n.*\(default none\)/);
  assert.match(text, /--version\n/);
  assert.ok(text.startsWith(`mcp-kernel-host ${VERSION}:`));
});

Deno.test("--npm-allow lists package names; unset, every package is allowed", () => {
  assert.equal(parseConfig([], ENV).npmAllow, undefined);
  assert.deepEqual(
    parseConfig(["--npm-allow", " superjson, @scope/pkg ,,"], ENV).npmAllow,
    ["superjson", "@scope/pkg"],
  );
  assert.deepEqual(
    parseConfig([], { ...ENV, MCP_KERNEL_HOST_NPM_ALLOW: "ms" }).npmAllow,
    ["ms"],
  );
  // The flag beats its variable; an empty variable clears the setting.
  assert.deepEqual(
    parseConfig(["--npm-allow=debug"], { ...ENV, MCP_KERNEL_HOST_NPM_ALLOW: "ms" }).npmAllow,
    ["debug"],
  );
  assert.equal(parseConfig([], { ...ENV, MCP_KERNEL_HOST_NPM_ALLOW: "" }).npmAllow, undefined);
  assert.match(helpText(ENV), /--npm-allow <names>\n.*\(default all packages\)/);
});

Deno.test("an entry of --npm-allow that is not a package name is refused, naming it", () => {
  for (const bad of ["superjson@2.2.6", "npm:ms", "Upper", "@scope", "a b", "../x"]) {
    assert.throws(() => parseConfig(["--npm-allow", `ms,${bad}`], ENV), {
      name: "RangeError",
      message: `Invalid value for --npm-allow: "${bad}" (expected npm package names such as ` +
        "superjson or @scope/name, comma-separated, without versions)",
    });
  }
});

Deno.test("readAuthToken takes the first line of --auth-token-file, and refuses an empty one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/token`;
    await Deno.writeTextFile(file, "s3cret \nignored\n", { mode: 0o600 });
    const config = parseConfig(["--auth-token-file", file], ENV);
    assert.equal(await readAuthToken(config), "s3cret");
    assert.equal(await readAuthToken(parseConfig(["--auth-token", "t"], ENV)), "t");
    await Deno.writeTextFile(file, "\n");
    await assert.rejects(readAuthToken(config), { message: `the first line of ${file} is empty` });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--spare-kernels keeps one spare by default; 0 disables; the variable is its twin", () => {
  assert.equal(parseConfig([], ENV).spareKernels, 1);
  assert.equal(parseConfig(["--spare-kernels", "0"], ENV).spareKernels, 0);
  assert.equal(parseConfig([], { ...ENV, MCP_KERNEL_HOST_SPARE_KERNELS: "3" }).spareKernels, 3);
  assert.equal(
    parseConfig(["--spare-kernels=2"], { ...ENV, MCP_KERNEL_HOST_SPARE_KERNELS: "3" }).spareKernels,
    2,
  );
  assert.throws(() => parseConfig(["--spare-kernels", "-1"], ENV), {
    name: "RangeError",
    message: 'Invalid value for --spare-kernels: "-1" (expected a whole number from 0 to 100)',
  });
  assert.match(helpText(ENV), /--spare-kernels <count>\n.*\(default 1, 0–100\)/);
});

Deno.test("--output-limit and its twin set the text a result gives a model; the default is 20,000", () => {
  assert.equal(parseConfig([], ENV).outputLimit, 20_000);
  assert.equal(parseConfig(["--output-limit", "50000"], ENV).outputLimit, 50_000);
  assert.equal(parseConfig([], { ...ENV, MCP_KERNEL_HOST_OUTPUT_LIMIT: "8000" }).outputLimit, 8000);
  assert.throws(() => parseConfig(["--output-limit", "10"], ENV), {
    name: "RangeError",
    message:
      'Invalid value for --output-limit: "10" (expected a whole number from 1000 to 10000000 characters)',
  });
});

Deno.test("--registry takes a PostgreSQL URL; unset, the registry is SQLite in --data-dir", () => {
  assert.equal(parseConfig([], ENV).registryUrl, undefined);
  const url = "postgres://mkh@db.internal:5432/mcp";
  assert.equal(parseConfig(["--registry", url], ENV).registryUrl, url);
  assert.equal(
    parseConfig([], { ...ENV, MCP_KERNEL_HOST_REGISTRY: "postgresql:///mcp?host=/run/pg" })
      .registryUrl,
    "postgresql:///mcp?host=/run/pg",
  );
  // The flag beats its variable; an empty variable clears the setting.
  assert.equal(
    parseConfig([`--registry=${url}`], { ...ENV, MCP_KERNEL_HOST_REGISTRY: "postgres://x/y" })
      .registryUrl,
    url,
  );
  assert.equal(parseConfig([], { ...ENV, MCP_KERNEL_HOST_REGISTRY: "" }).registryUrl, undefined);
  assert.match(
    helpText(ENV),
    /--registry <url>\n.*\(default SQLite at <data-dir>\/registry\.db\)\n\s+env MCP_KERNEL_HOST_REGISTRY/,
  );
});

Deno.test("a --registry that is not a PostgreSQL URL is refused without echoing it", () => {
  assert.throws(() => parseConfig(["--registry", "mysql://me:hunter2@db/x"], ENV), {
    name: "RangeError",
    message: "Invalid value for --registry: a mysql: URL (expected a postgres:// or " +
      "postgresql:// URL such as postgres://user@localhost:5432/mcp)",
  });
  assert.throws(() => parseConfig(["--registry", "/var/lib/registry.db"], ENV), {
    name: "RangeError",
    message: /^Invalid value for --registry: not a URL/,
  });
});

Deno.test("--lease-ttl is 15 s by default, set by flag or variable, 3 s to an hour", () => {
  assert.equal(parseConfig([], ENV).leaseTtl, 15);
  assert.equal(parseConfig(["--lease-ttl", "5"], ENV).leaseTtl, 5);
  assert.equal(parseConfig([], { ...ENV, MCP_KERNEL_HOST_LEASE_TTL: "60" }).leaseTtl, 60);
  assert.throws(() => parseConfig(["--lease-ttl", "1"], ENV), /--lease-ttl.*1/);
  assert.throws(() => parseConfig(["--lease-ttl", "3601"], ENV), /--lease-ttl/);
});
