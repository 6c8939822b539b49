/**
 * The multi-host mode end to end, as `deno task cluster` runs it: PostgreSQL, three host
 * processes and nginx (the shipped configuration) on loopback, driven through real MCP clients
 * (v2 pinned to 2026-07-28, routed on Mcp-Param-Kernel; v1 on 2025-11-25, routed on
 * Mcp-Session-Id). Then chaos rounds (see `testing/chaos.ts`): `kill -9` of a host under load,
 * SIGSTOP of another past its lease and SIGCONT, with a counter no two copies of a kernel may
 * both advance. Needs PostgreSQL and nginx: fails saying so when they cannot start (`.ci/run`
 * installs them); `MCP_KERNEL_HOST_TEST_POSTGRES=skip` skips it, the reason in its name, and
 * `MCP_KERNEL_HOST_TEST_CHAOS=skip` only its chaos rounds (about 40 s).
 */
import assert from "node:assert/strict";
import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as V1Transport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { chaosRound, routedClient } from "../testing/chaos.ts";
import { ROUND_HOST_ARGS, startCluster } from "../testing/cluster.ts";

const SKIP = Deno.env.get("MCP_KERNEL_HOST_TEST_POSTGRES") === "skip"
  ? "skipped: MCP_KERNEL_HOST_TEST_POSTGRES=skip"
  : undefined;
const TTL = 3;
const CHAOS = Deno.env.get("MCP_KERNEL_HOST_TEST_CHAOS") !== "skip";
const CHAOS_OFF = "skipped: MCP_KERNEL_HOST_TEST_CHAOS=skip";

Deno.test({
  name: `a cluster of three hosts behind nginx${SKIP ? ` (${SKIP})` : ""}`,
  ignore: SKIP !== undefined,
  async fn(t) {
    await using cluster = await startCluster({
      hosts: 3,
      leaseTtl: TTL,
      // At debug, the hosts' logs name each kernel's leases, saves and cells: a round that breaks
      // the counter keeps them (see below).
      hostArgs: [...ROUND_HOST_ARGS, "--log-level", "debug"],
    });

    await t.step(
      "a kernel created through one host is used through another with its state",
      async () => {
        const a = await routedClient(cluster.hosts[0]!.url);
        const b = await routedClient(cluster.hosts[1]!.url);
        try {
          const made = await a.callTool({ name: "create_kernel", arguments: {} });
          const kernel = (made.structuredContent as { kernel: string }).kernel;
          await a.callTool({
            name: "execute",
            arguments: {
              kernel,
              code: "class Box { constructor(v) { this.v = v } }; const box = new Box('made on A')",
            },
          });
          const onB = await b.callTool({
            name: "execute",
            arguments: { kernel, code: "box instanceof Box && box.v" },
          });
          assert.equal((onB.structuredContent as { result: string }).result, '"made on A"');
          const holders = await cluster.holders([kernel]);
          assert.equal(holders.get(kernel), 1, "B holds it now");
        } finally {
          await a.close();
          await b.close();
        }
      },
    );

    await t.step("nginx spreads kernels by their id and keeps each on its host", async () => {
      const client = await routedClient(cluster.url);
      try {
        const ids: string[] = [];
        for (let i = 0; i < 8; i++) {
          const made = await client.callTool({ name: "create_kernel", arguments: {} });
          ids.push((made.structuredContent as { kernel: string }).kernel);
        }
        const run = () =>
          Promise.all(
            ids.map((kernel) =>
              client.callTool({ name: "execute", arguments: { kernel, code: "1" } })
            ),
          );
        await run();
        const first = await cluster.holders(ids);
        assert.equal(first.size, ids.length, "every kernel is leased");
        // All eight on one of three hosts by chance: 3 × (1/3)^8, about 1 in 2,200.
        assert.ok(new Set(first.values()).size >= 2, "the kernels are spread over the hosts");
        await run();
        await run();
        assert.deepEqual(await cluster.holders(ids), first, "no kernel moved");
        for (const kernel of ids) {
          await client.callTool({ name: "close_kernel", arguments: { kernel } });
        }
      } finally {
        await client.close();
      }
    });

    await t.step(
      "a 2025-11-25 session through nginx keeps its kernel (routed on its session id)",
      async () => {
        const client = new V1Client({ name: "cluster-v1", version: "1" });
        const transport = new V1Transport(new URL(cluster.url));
        await client.connect(transport);
        try {
          await client.callTool({ name: "execute", arguments: { code: "let seen = []" } });
          for (let i = 0; i < 5; i++) {
            await client.callTool({ name: "execute", arguments: { code: `seen.push(${i})` } });
          }
          const r = await client.callTool({ name: "execute", arguments: { code: "seen.join()" } });
          assert.equal((r.structuredContent as { result: string }).result, '"0,1,2,3,4"');
          assert.ok(transport.sessionId);
        } finally {
          await client.close();
        }
      },
    );

    for (const round of [1, 2]) {
      await t.step({
        name: `chaos round ${round}: kill -9, then SIGSTOP past the lease and SIGCONT` +
          (CHAOS ? "" : ` (${CHAOS_OFF})`),
        ignore: !CHAOS,
        fn: async () => {
          const f = await chaosRound(cluster, { leaseTtlMs: TTL * 1000 });
          const { diagnostics, ...figures } = f;
          console.log(`round ${round}: ${JSON.stringify(figures)}`);
          if (diagnostics) {
            const file = await Deno.makeTempFile({ prefix: "mkh-chaos-", suffix: ".txt" });
            await Deno.writeTextFile(file, `${f.violations.join("\n\n")}\n\n${diagnostics}\n`);
            console.log(`round ${round}: registry rows and host logs in ${file}`);
          }
          // No double advance, no silent loss: every reply continued the counter, or named the
          // cells it lost from exactly the restored state on.
          assert.deepEqual(f.violations, []);
          assert.ok(f.killedKernels >= 1 && f.pausedKernels >= 1, "each faulted host held kernels");
          assert.ok(f.cells > 20, `the load ran (${f.cells} cells kept)`);
          // Within lease expiry plus restore (a liveness bound, generous for a busy machine: the
          // lease, the handover wait's second, and up to 8 s to restore).
          assert.ok(
            f.killRecoveryMs < (TTL + 1 + 8) * 1000,
            `recovered after ${f.killRecoveryMs} ms`,
          );
          assert.ok(
            f.pauseTakeoverMs < (TTL + 1 + 8) * 1000,
            `taken over after ${f.pauseTakeoverMs} ms`,
          );
          assert.ok(f.pausedMs > TTL * 1000, "paused past its lease");
          // The resumed host logged that it lost its kernels (a late save refused, or a renewal
          // or pre-request check that found the lease taken), and the counter shows it advanced
          // none of them.
          assert.ok(
            f.lateSavesRefused + f.leaseLossesNoticed >= 1,
            "the resumed host logged its lost leases",
          );
        },
      });
    }
  },
});
