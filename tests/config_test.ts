import assert from "node:assert/strict";
import { envName, helpText, parseConfig } from "../src/config.ts";

const ENV = { HOME: "/home/u" };

Deno.test("defaults: HTTP mode, per-user data folder, 60 s cells, 512 MB kernels", () => {
  const c = parseConfig([], ENV);
  assert.equal(c.stdio, false);
  assert.equal(c.dataDir, "/home/u/.local/share/mcp-kernel-host");
  assert.equal(c.cellTimeout, 60);
  assert.equal(c.memoryLimit, 512);
  assert.equal(parseConfig([], { ...ENV, XDG_DATA_HOME: "/x" }).dataDir, "/x/mcp-kernel-host");
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
  assert.match(text, /--prelude <file>/);
  assert.doesNotMatch(text, /MCP_KERNEL_HOST_HELP/, "--help has no environment twin");
});
