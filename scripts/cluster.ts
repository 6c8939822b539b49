/**
 * `deno task cluster`: the multi-host mode on loopback, to try it or to measure it. Starts a
 * throwaway PostgreSQL, N hosts on one registry (`--registry postgres://…`, `--lease-ttl 3`) and
 * nginx in front of them from `deploy/nginx/mcp-kernel-host.conf`, and prints the URL to point
 * an MCP client at. Ctrl-C (or SIGTERM) stops everything and removes the temporary folders.
 *
 *   deno task cluster                  3 hosts, until Ctrl-C
 *   deno task cluster --hosts 5
 *   deno task cluster --rounds 20      then 20 chaos rounds (see testing/chaos.ts), their figures
 *                                      and a summary; exits non-zero if a round broke the counter.
 *                                      The hosts log at debug then, and a round that broke it
 *                                      leaves its traces, registry rows and host logs in a file
 *                                      (its path is printed).
 *
 * @module
 */
import { chaosRound, type RoundFigures } from "../testing/chaos.ts";
import { ROUND_HOST_ARGS, startCluster } from "../testing/cluster.ts";

const arg = (name: string, fallback: number) => {
  const i = Deno.args.indexOf(`--${name}`);
  const value = i >= 0 ? Number(Deno.args[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < (name === "rounds" ? 0 : 1)) {
    throw new RangeError(
      `Cannot start the cluster: --${name} must be a whole number, got ${Deno.args[i + 1]}`,
    );
  }
  return value;
};
const HOSTS = arg("hosts", 3);
const ROUNDS = arg("rounds", 0);
const TTL = 3;

const stopped = Promise.withResolvers<void>();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => stopped.resolve());
}

console.log(`starting PostgreSQL, ${HOSTS} hosts and nginx …`);
await using cluster = await startCluster({
  hosts: HOSTS,
  leaseTtl: TTL,
  hostArgs: [...ROUND_HOST_ARGS, ...(ROUNDS > 0 ? ["--log-level", "debug"] : [])],
});
console.log(`registry: ${cluster.registryUrl}`);
cluster.hosts.forEach((h, i) => console.log(`host ${i}: ${h.url} (data ${h.dataDir})`));
console.log(`\nMCP endpoint through nginx: ${cluster.url}\n`);

if (ROUNDS > 0) {
  const rounds: RoundFigures[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const round = chaosRound(cluster, {
      leaseTtlMs: TTL * 1000,
      log: (l) => console.log(`  ${l}`),
    });
    let f: RoundFigures | undefined;
    try {
      f = await Promise.race([round, stopped.promise.then(() => undefined)]);
    } catch (error) {
      // A round whose faulted host's kernels did not come back: the cluster may be left short
      // of a host, so the run ends here, with what the round saw.
      Deno.exitCode = 1;
      const file = await Deno.makeTempFile({ prefix: `mkh-chaos-round${r}-`, suffix: ".txt" });
      await Deno.writeTextFile(
        file,
        `${(error as Error).message}\n\n` +
          cluster.hosts.map((h, i) => `host ${i} (${h.current.holder}) log:\n${h.log}`).join(
            "\n\n",
          ),
      );
      console.log(`round ${r} failed: ${(error as Error).message.split("\n")[0]}`);
      console.log(`  its traces and the hosts' logs: ${file}`);
      break;
    }
    if (!f) break;
    rounds.push(f);
    console.log(
      `round ${r}: kill -9 recovery ${ms(f.killRecoveryMs)} (${f.killedKernels} kernels, ` +
        `${f.cellsLost} acknowledged cells lost, all named), SIGSTOP takeover ` +
        `${ms(f.pauseTakeoverMs)} (${f.pausedKernels} kernels, paused ${ms(f.pausedMs)}), ` +
        `late saves refused ${f.lateSavesRefused}, late writes rolled back ` +
        `${f.lateWritesRolledBack}, stalled sessions ended ${f.stalledSessionsEnded}, ` +
        `restores carrying a loss ${f.lossesSaidAgain}, ` +
        `${f.cells} cells, counter violations ${f.violations.length}`,
    );
    for (const v of f.violations) console.log(`  violation: ${v}`);
    if (f.diagnostics) {
      const file = await Deno.makeTempFile({ prefix: `mkh-chaos-round${r}-`, suffix: ".txt" });
      await Deno.writeTextFile(file, `${f.violations.join("\n\n")}\n\n${f.diagnostics}\n`);
      console.log(`  the round's traces, registry rows and host logs: ${file}`);
    }
  }
  console.log(`\n${summary(rounds)}`);
  if (rounds.some((f) => f.violations.length > 0)) Deno.exitCode = 1;
} else {
  console.log("serving until Ctrl-C");
  await stopped.promise;
}
console.log("stopping …");

function ms(value: number): string {
  return `${(value / 1000).toFixed(1)} s`;
}

function range(values: number[], unit: (v: number) => string): string {
  return values.length === 0 ? "-" : `${unit(Math.min(...values))}–${unit(Math.max(...values))}`;
}

/** One paragraph over all rounds: the figures the README and the issue quote. */
function summary(rounds: RoundFigures[]): string {
  const sum = (pick: (f: RoundFigures) => number) => rounds.reduce((s, f) => s + pick(f), 0);
  const n = String;
  return [
    `${rounds.length} rounds, ${sum((f) => f.cells)} cells kept:`,
    `kill -9 recovery ${range(rounds.map((f) => f.killRecoveryMs), ms)},`,
    `acknowledged cells lost per round ${range(rounds.map((f) => f.cellsLost), n)} (all named),`,
    `SIGSTOP takeover ${range(rounds.map((f) => f.pauseTakeoverMs), ms)},`,
    `late saves refused ${sum((f) => f.lateSavesRefused)},`,
    `late writes rolled back ${sum((f) => f.lateWritesRolledBack)},`,
    `stalled sessions ended ${sum((f) => f.stalledSessionsEnded)},`,
    `restores carrying a loss ${sum((f) => f.lossesSaidAgain)},`,
    `counter violations (double advances or silent loss) ${sum((f) => f.violations.length)}`,
  ].join(" ");
}
