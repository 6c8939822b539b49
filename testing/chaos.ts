/**
 * One chaos round on a cluster (see `cluster.ts`), through real MCP clients: kernels under
 * steady load through nginx, then `kill -9` of the host holding the most of them, then SIGSTOP of
 * another holder past its lease and SIGCONT. Every cell advances a per-kernel counter (`++n`,
 * which is also the cell's number); the replies, in order, must show each kept advance exactly
 * once: a value that repeats or goes back without the reply naming a loss means two copies of
 * the kernel advanced from the same state (a double advance) or state was lost silently.
 *
 * @module
 */
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import type { Cluster } from "./cluster.ts";

/** What one round measured. */
export interface RoundFigures {
  /** From `kill -9` to the last of its kernels' first kept reply on another host, in ms. */
  killRecoveryMs: number;
  /** Kernels the killed host held. */
  killedKernels: number;
  /** Acknowledged cells whose effect did not survive the kill (all named in replies). */
  cellsLost: number;
  /** From SIGSTOP to the last of its kernels' first kept reply on another host, in ms. */
  pauseTakeoverMs: number;
  /** Kernels the paused host held. */
  pausedKernels: number;
  /** How long the host stayed paused, in ms (past its lease). */
  pausedMs: number;
  /** The resumed host's log: late saves refused by the fence. */
  lateSavesRefused: number;
  /**
   * The resumed host's log: writes that were in flight when it stopped, rolled back when a
   * takeover ended its stalled PostgreSQL session (they fail with a closed connection).
   */
  lateWritesRolledBack: number;
  /** The resumed host's log: other ways it found its leases gone (renewal, a check, a cell). */
  leaseLossesNoticed: number;
  /** Stalled PostgreSQL sessions of the paused host ended by a takeover (see the registry). */
  stalledSessionsEnded: number;
  /**
   * Restores from a snapshot that carried a loss an earlier restore found, saved while no client
   * was sure to have heard of it: said again to a request that came no later than the reply that
   * said it (seen in the hosts' logs at debug only).
   */
  lossesSaidAgain: number;
  /** Cells kept in the round. */
  cells: number;
  /** Replies that broke the counter's sequence (double advances or silent loss), in words. */
  violations: string[];
  /**
   * With violations: the registry's rows of the kernels concerned (lease, kernel record,
   * snapshots, cell log) and every host's log of the round, to read beside the traces.
   */
  diagnostics?: string;
}

/** How a round runs. */
export interface RoundOptions {
  /** Kernels under load (default 4). */
  kernels?: number;
  /** Load before the kill and between phases, in ms (default 1500). */
  settleMs?: number;
  /** Lease length of the hosts, in ms (default 3000). */
  leaseTtlMs?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** A v2 SDK client pinned to 2026-07-28 that has listed the tools (so it sends Mcp-Param-Kernel). */
export async function routedClient(url: string): Promise<Client> {
  const client = new Client({ name: "chaos", version: "1.0.0" }, {
    versionNegotiation: { mode: { pin: "2026-07-28" } },
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  await client.listTools();
  return client;
}

interface Reply {
  isError: boolean;
  out: Record<string, unknown>;
  text: string;
}

async function execute(
  client: Client,
  args: Record<string, unknown>,
  signal: AbortSignal,
): Promise<Reply> {
  const r = await client.callTool({ name: "execute", arguments: args }, {
    signal,
    timeout: 60_000,
  });
  return {
    isError: r.isError === true,
    text: (r.content as { text?: string }[]).map((c) => c.text ?? "").join("\n"),
    out: (r.structuredContent ?? {}) as Record<string, unknown>,
  };
}

/** One kernel's load loop and the checks on its replies. */
class KernelLoad {
  readonly id: string;
  /** The counter's last kept value. */
  #kept: number;
  /**
   * Attempts given up or failed without a reply that may still have run (a host may serve an
   * abandoned request later, e.g. once resumed): each can explain one skipped value, once.
   */
  #unacknowledged = 0;
  /** Cells named as lost by error replies since the last kept one. */
  #namedElsewhere = 0;
  /**
   * Every cell number a reply named as lost so far: a loss said again (a host says it until it
   * knows a client had it) names no new cell.
   */
  #named = new Set<number>();
  /** Kept replies: when asked and answered, and how many acknowledged cells were lost. */
  readonly kept: { sentAt: number; at: number; lost: number }[] = [];
  readonly violations: string[] = [];
  #stopped = false;
  #abort = new AbortController();
  #route: () => { client: Client; name: string };
  /** The last replies and failures, in words: shown with a violation. */
  #trace: string[] = [];
  #running: Promise<void>;

  constructor(id: string, start: number, route: () => { client: Client; name: string }) {
    this.id = id;
    this.#kept = start;
    this.#route = route;
    this.#running = this.#loop();
  }

  /** Gives up the request in flight (it is retried, by the route then in force). */
  abort(): void {
    this.#abort.abort();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.abort();
    await this.#running;
  }

  /** The first kept reply to a request sent after `t`. */
  firstKeptAfter(t: number): { at: number; lost: number } | undefined {
    return this.kept.find((k) => k.sentAt > t);
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      this.#abort = new AbortController();
      let reply: Reply;
      const sentAt = performance.now();
      const { client, name } = this.#route();
      try {
        reply = await execute(client, { kernel: this.id, code: "++n" }, this.#abort.signal);
      } catch (error) {
        this.#unacknowledged++;
        this.#note(sentAt, name, `failed: ${(error as Error).message.slice(0, 80)}`);
        if (!this.#stopped) await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      const o = reply.out;
      this.#note(
        sentAt,
        name,
        `n=${o.result} cell=${o.execution_count}` +
          (o.restored_from ? ` restored=${JSON.stringify(o.restored_from)}` : "") +
          (o.lost ? ` lost="${String(o.lost).slice(0, 160)}"` : "") +
          (reply.isError ? ` error="${reply.text.slice(0, 120)}"` : ""),
      );
      this.#check(reply, sentAt);
    }
  }

  #note(sentAt: number, route: string, what: string): void {
    this.#trace.push(`${clock(sentAt)}–${clock(performance.now())} ${route}: ${what}`);
    if (this.#trace.length > 30) this.#trace.shift();
  }

  #violation(what: string): void {
    this.violations.push(`${this.id}: ${what}\n    ${this.trace()}`);
  }

  /** The last replies and failures, one per line. */
  trace(): string {
    return this.#trace.join("\n    ");
  }

  /** How many cells `lost` names that no reply named before (and notes them). */
  #newlyNamed(lost: string | undefined): number {
    const before = this.#named.size;
    for (const cell of namedCells(lost)) this.#named.add(cell);
    return this.#named.size - before;
  }

  #check(reply: Reply, sentAt: number): void {
    const n = Number(reply.out.result);
    const lost = typeof reply.out.lost === "string" ? reply.out.lost : undefined;
    // Refused without running (a kernel leased elsewhere, one that moved while the call waited,
    // at capacity), or stopped by a restart: retried. `++n` itself cannot fail. A loss it named
    // need not be named again.
    if (reply.isError || !Number.isInteger(n)) {
      this.#namedElsewhere += this.#newlyNamed(lost);
      return;
    }
    // A host that ran the cell on a copy it no longer held: the effect was dropped, and said so.
    // A loss it told besides (a restore before the cell) is told all the same.
    if (lost && /its effect is not kept/.test(lost)) {
      this.#namedElsewhere += this.#newlyNamed(lost);
      return;
    }
    const prev = this.#kept;
    const named = this.#newlyNamed(lost);
    let lostCells = 0;
    if (n <= prev) {
      lostCells = prev - (n - 1);
      // Named: cell numbers (which go on past lost cells, so they are not the counter's
      // values) not named before, at least as many as the acknowledged cells lost.
      if (named + this.#namedElsewhere < lostCells) {
        this.#violation(
          `the counter went from ${prev} to ${n} ` +
            (lost ? `and the reply named only: ${lost}` : "without the reply naming a loss"),
        );
      }
    } else if (n > prev + 1 + this.#unacknowledged) {
      this.#violation(`the counter jumped from ${prev} to ${n}`);
    } else {
      this.#unacknowledged -= n - prev - 1;
    }
    this.#kept = n;
    this.#namedElsewhere = 0;
    this.kept.push({ sentAt, at: performance.now(), lost: lostCells });
  }
}

/**
 * The cell numbers a reply's `lost` names as lost ("cells 4–6 ran … and were lost": 4, 5, 6;
 * "cell 4 ran … and was lost": 4).
 */
function namedCells(lost: string | undefined): number[] {
  return [...(lost ?? "").matchAll(/cells? (\d+)(?:–(\d+))? ran/g)].flatMap((m) => {
    const first = Number(m[1]);
    return Array.from({ length: Number(m[2] ?? m[1]) - first + 1 }, (_, i) => first + i);
  });
}

/** A `performance.now()` time as the traces show it. */
const seconds = (ms: number) => (ms / 1000).toFixed(3);

/**
 * A `performance.now()` time as the wall clock's time of day (UTC, to the millisecond), as the
 * hosts' log lines show theirs.
 */
function clock(ms: number): string {
  return new Date(performance.timeOrigin + ms).toISOString().slice(11, 23);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `done()` or `ms` passed; returns whether `done()`. */
async function until(done: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (!done() && performance.now() < end) await sleep(25);
  return done();
}

/** Lines of `log` after `from` characters that match `pattern`. */
function count(log: string, from: number, pattern: RegExp): number {
  return log.slice(from).split("\n").filter((l) => pattern.test(l)).length;
}

/**
 * Runs one round; the cluster's hosts must all be up, and are all up again at the end.
 *
 * @throws {Error} When the kernels of the killed or paused host do not continue elsewhere within
 *   30 s (the round's figures would be meaningless).
 */
export async function chaosRound(
  cluster: Cluster,
  options: RoundOptions = {},
): Promise<RoundFigures> {
  const say = options.log ?? (() => {});
  const settle = options.settleMs ?? 1500;
  const ttl = options.leaseTtlMs ?? 3000;
  const clients: Client[] = [];
  const open = async (url: string) => {
    const client = await routedClient(url);
    clients.push(client);
    return client;
  };
  const loads: KernelLoad[] = [];
  const roundLogs = cluster.hosts.map((h) => h.log.length);
  try {
    const viaNginx = await open(cluster.url);
    const direct = await Promise.all(cluster.hosts.map((h) => open(h.url)));
    /** Hosts a (simulated) health check took out: their kernels' requests go to the others. */
    const avoided = new Set<number>();
    let turn = 0;
    const route = () => {
      if (avoided.size === 0) return { client: viaNginx, name: "nginx" };
      const healthy = [...direct.keys()].filter((i) => !avoided.has(i));
      const i = healthy[turn++ % healthy.length]!;
      return { client: direct[i]!, name: `host ${i}` };
    };
    for (let k = 0; k < (options.kernels ?? 4); k++) {
      const made = await viaNginx.callTool({ name: "create_kernel", arguments: {} });
      const id = String((made.structuredContent as { kernel: string }).kernel);
      const first = await execute(
        viaNginx,
        { kernel: id, code: "let n = 1; n" },
        new AbortController().signal,
      );
      if (first.out.result !== "1") throw new Error(`Cannot start the load: ${first.text}`);
      loads.push(new KernelLoad(id, 1, route));
    }
    const ids = loads.map((l) => l.id);
    await sleep(settle);

    // kill -9 of the host holding the most kernels.
    const victim = await busiest(cluster, ids);
    const killedIds = [...(await cluster.holders(ids))].filter(([, i]) => i === victim).map(([k]) =>
      k
    );
    const killedAt = performance.now();
    await cluster.kill(victim);
    say(`killed host ${victim} (${killedIds.length} kernels) at ${seconds(killedAt)}`);
    const killed = loads.filter((l) => killedIds.includes(l.id));
    if (!(await until(() => killed.every((l) => l.firstKeptAfter(killedAt)), 30_000))) {
      throw new Error(
        "the killed host's kernels did not continue elsewhere within 30 s: " +
          await diagnose(cluster, killed, killedAt),
      );
    }
    const killRecoveryMs = Math.max(
      0,
      ...killed.map((l) => l.firstKeptAfter(killedAt)!.at - killedAt),
    );
    const cellsLost = killed.reduce((sum, l) => sum + l.firstKeptAfter(killedAt)!.lost, 0);
    await cluster.restart(victim);
    say(`restarted host ${victim} at ${seconds(performance.now())}`);
    await sleep(settle);

    // SIGSTOP of a host holding kernels, past its lease.
    const target = await busiest(cluster, ids);
    const pausedIds = [...(await cluster.holders(ids))].filter(([, i]) => i === target).map(([k]) =>
      k
    );
    const host = cluster.hosts[target]!;
    const logFrom = host.log.length;
    const takerLogs = cluster.hosts.map((h) => h.log.length);
    const pausedAt = performance.now();
    cluster.pause(target);
    avoided.add(target);
    for (const l of loads) l.abort();
    say(`paused host ${target} (${pausedIds.length} kernels) at ${seconds(pausedAt)}`);
    const paused = loads.filter((l) => pausedIds.includes(l.id));
    const continued = await until(() => paused.every((l) => l.firstKeptAfter(pausedAt)), 30_000);
    const pauseTakeoverMs = Math.max(
      0,
      ...paused.map((l) => (l.firstKeptAfter(pausedAt)?.at ?? NaN) - pausedAt),
    );
    // Looked at before the host resumes, while whatever holds its kernels still does.
    const stuck = continued ? undefined : await diagnose(cluster, paused, pausedAt);
    await until(() => false, Math.max(0, pausedAt + ttl + 500 - performance.now()));
    const pausedMs = performance.now() - pausedAt;
    cluster.resume(target);
    avoided.delete(target);
    say(`resumed host ${target} at ${seconds(performance.now())}`);
    if (stuck) {
      throw new Error(`the paused host's kernels did not continue elsewhere in 30 s: ${stuck}`);
    }
    await sleep(settle + 1000);
    const stalledSessionsEnded = cluster.hosts.reduce(
      (sum, h, i) => sum + count(h.log, takerLogs[i]!, /ended \d+ stalled PostgreSQL session/),
      0,
    );
    for (const l of loads) await l.stop();
    const violations = loads.flatMap((l) => l.violations);
    return {
      killRecoveryMs,
      killedKernels: killedIds.length,
      cellsLost,
      pauseTakeoverMs,
      pausedKernels: pausedIds.length,
      pausedMs,
      lateSavesRefused: count(
        host.log,
        logFrom,
        /late save (of a kernel whose lease was lost )?was refused/,
      ),
      lateWritesRolledBack: count(
        host.log,
        logFrom,
        /(saving a kernel|recording a cell|recording kernel activity) failed.*(CONNECTION_|ECONNRESET|terminat)/,
      ),
      leaseLossesNoticed: count(host.log, logFrom, /lost the lease of a kernel; (?!its late save)/),
      stalledSessionsEnded,
      lossesSaidAgain: cluster.hosts.reduce(
        (sum, h, i) =>
          sum +
          count(h.log, roundLogs[i]!, /"started a kernel".*from an earlier restore \(said again/),
        0,
      ),
      cells: loads.reduce((sum, l) => sum + l.kept.length, 0),
      violations,
      ...(violations.length > 0 && {
        diagnostics: await explain(
          cluster,
          loads.filter((l) => l.violations.length > 0).map((l) => l.id),
          roundLogs,
        ),
      }),
    };
  } finally {
    await Promise.all(loads.map((l) => l.stop()));
    // The next round starts from hosts without this round's kernels.
    for (const l of loads) {
      await clients[0]?.callTool({ name: "close_kernel", arguments: { kernel: l.id } })
        .catch(() => {});
    }
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
  }
}

/** What holds the kernels of `loads` that did not continue after `since`: traces, leases, sessions. */
async function diagnose(cluster: Cluster, loads: KernelLoad[], since: number): Promise<string> {
  const stuck = loads.filter((l) => !l.firstKeptAfter(since));
  const sessions = await cluster.sql`
    SELECT pid, state, wait_event_type, wait_event, pg_blocking_pids(pid) AS blocked_by,
           now() - xact_start AS in_transaction, left(query, 80) AS query
    FROM pg_stat_activity WHERE application_name = 'mcp-kernel-host' AND state != 'idle'`;
  const leases = await cluster.sql`
    SELECT kernel_id, holder, epoch, expires_at,
           (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now
    FROM leases WHERE kernel_id = ANY(${stuck.map((l) => l.id)})`;
  return stuck.map((l) => `\n${l.id}:\n    ${l.trace()}`).join("") +
    `\nleases: ${JSON.stringify(leases)}\nsessions: ${JSON.stringify(sessions)}`;
}

/**
 * The registry's rows of `kernels` (lease, record, snapshots without bodies, cell log), then each
 * host's log from `logFrom` characters on: what a violation is read against.
 */
async function explain(cluster: Cluster, kernels: string[], logFrom: number[]): Promise<string> {
  const rows = (value: unknown) => JSON.stringify(value, null, 0).replaceAll("},{", "},\n  {");
  const parts: string[] = [];
  for (const id of kernels) {
    const lease = await cluster.sql`SELECT * FROM leases WHERE kernel_id = ${id}`;
    const kernel = await cluster.sql`
      SELECT id, state, execution_count, last_saved_at, last_active_at FROM kernels
      WHERE id = ${id}`;
    const snapshots = await cluster.sql`
      SELECT version, saved_at, execution_count, size, quarantined_at, quarantine_reason
      FROM snapshots WHERE kernel_id = ${id} ORDER BY version`;
    const cells = await cluster.sql`
      SELECT cell, at, declared FROM cells WHERE kernel_id = ${id} ORDER BY cell`;
    parts.push(
      `kernel ${id}\nlease: ${rows(lease)}\nrecord: ${rows(kernel)}\n` +
        `snapshots:\n  ${rows(snapshots)}\ncells:\n  ${rows(cells)}`,
    );
  }
  cluster.hosts.forEach((h, i) => {
    parts.push(`host ${i} (${h.current.holder}) log:\n${h.log.slice(logFrom[i])}`);
  });
  return parts.join("\n\n");
}

/** The host holding the most of `kernels`' leases (the first host when none holds any). */
async function busiest(cluster: Cluster, kernels: string[]): Promise<number> {
  const tally = new Map<number, number>();
  for (const i of (await cluster.holders(kernels)).values()) tally.set(i, (tally.get(i) ?? 0) + 1);
  return [...tally].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 0;
}
