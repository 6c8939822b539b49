/**
 * Test helper: one throwaway PostgreSQL server per test (see `testing/postgres.ts`), registered
 * by {@linkcode postgresTest}.
 *
 * @module
 */
import { type PostgresServer, startPostgres } from "../../testing/postgres.ts";

export type { PostgresServer };

/** Why PostgreSQL tests are skipped, when `MCP_KERNEL_HOST_TEST_POSTGRES=skip` says so. */
const SKIP = Deno.env.get("MCP_KERNEL_HOST_TEST_POSTGRES") === "skip"
  ? "skipped: MCP_KERNEL_HOST_TEST_POSTGRES=skip"
  : undefined;

/**
 * Registers `fn` as one test that gets a fresh server. Without the binaries the test fails
 * saying so; with `MCP_KERNEL_HOST_TEST_POSTGRES=skip` it is ignored, the reason in its name.
 */
export function postgresTest(
  name: string,
  fn: (t: Deno.TestContext, server: PostgresServer) => Promise<void>,
): void {
  Deno.test({
    name: SKIP ? `${name} (${SKIP})` : name,
    ignore: SKIP !== undefined,
    async fn(t) {
      await using server = await startPostgres();
      await fn(t, server);
    },
  });
}
