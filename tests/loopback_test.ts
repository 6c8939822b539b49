import assert from "node:assert/strict";
import { isLoopback, LOOPBACK_HOSTS } from "../src/loopback.ts";

Deno.test("loopback names, bare and bracketed, in any case, are loopback; others are not", () => {
  for (const host of LOOPBACK_HOSTS) assert.ok(isLoopback(host), host);
  assert.ok(isLoopback("LocalHost"));
  for (const host of ["0.0.0.0", "::", "192.168.1.2", "example.com", "localhost.example", ""]) {
    assert.equal(isLoopback(host), false, host);
  }
});
