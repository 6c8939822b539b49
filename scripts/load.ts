/**
 * `deno task load`: the guarantees of DESIGN.md sections 5 and 7 under load, as counted checks.
 *
 * 1. Load: S concurrent sessions over HTTP against a real host process with the live-kernel cap
 *    at 8, each running C cells that increment its own counter and read it back, and checking
 *    its own tag now and then. Counts lost or wrong values and values from another session;
 *    "at capacity" refusals are counted and retried. Prints p50/p99 latency and kernel restores
 *    per minute.
 * 2. Hard kills: R rounds of `kill -9` of the host at a random moment under load, then a restart
 *    on the same data folder. Every session must resume (no 404) and its counter must be at most
 *    what it was last told and at least that minus the unsaved work; reports the worst loss.
 *
 * 0. Hostile cells and requests, and the sandbox boundary: the tests that prove them
 *    (`tests/hostile_*_test.ts`, `tests/kernel/sandbox_test.ts`), one line per guarantee.
 *
 * Prints one line per guarantee and exits non-zero if one fails. Sizes:
 *   deno task load                      100 sessions x 200 cells, 20 kill rounds (long)
 *   deno task load --sessions 100 --cells 10 --rounds 5      (what CI runs)
 *
 * @module
 */
import {
  type HostProcess,
  initializeRequest,
  ROOT,
  startHostProcess,
} from "../testing/host_process.ts";

const arg = (name: string, fallback: number) => {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
};
const SESSIONS = arg("sessions", 100);
const CELLS = arg("cells", 200);
const ROUNDS = arg("rounds", 20);
const CAP = 8;
const SAVE_EVERY = 5;
const HEADERS = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
};

type Server = HostProcess;

function startServer(dataDir: string): Promise<Server> {
  return startHostProcess([
    "--data-dir",
    dataDir,
    "--max-kernels",
    String(CAP),
    "--save-every",
    String(SAVE_EVERY),
    "--capacity-wait",
    "20",
  ]);
}

class Session {
  id = "";
  counter = 0;
  tag: string;
  constructor(readonly index: number) {
    this.tag = `session-${index}`;
  }
}

interface Tally {
  cells: number;
  wrong: string[];
  foreign: number;
  capacity: number;
  restores: number;
  latencies: number[];
}

function tally(): Tally {
  return { cells: 0, wrong: [], foreign: 0, capacity: 0, restores: 0, latencies: [] };
}

async function rpc(server: Server, session: string | undefined, body: unknown): Promise<Response> {
  return await fetch(server.url, {
    method: "POST",
    headers: { ...HEADERS, ...(session && { "mcp-session-id": session }) },
    body: JSON.stringify(body),
  });
}

async function open(server: Server, s: Session): Promise<void> {
  const r = await rpc(server, undefined, initializeRequest(0, "load"));
  await r.body?.cancel();
  s.id = r.headers.get("mcp-session-id")!;
  await (await rpc(server, s.id, { jsonrpc: "2.0", method: "notifications/initialized" })).body
    ?.cancel();
}

/** Runs one cell, retrying "at capacity" refusals; returns the structured result. */
async function execute(server: Server, s: Session, code: string, t: Tally) {
  for (;;) {
    const started = performance.now();
    const response = await rpc(server, s.id, {
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "execute", arguments: { code } },
    });
    if (response.status !== 200) {
      throw new Error(`HTTP ${response.status}: ${await response.text()}`);
    }
    const body = await response.json();
    const result = body.result;
    const text = result?.content?.[0]?.text ?? JSON.stringify(body);
    if (result?.isError && /at capacity/.test(text)) {
      t.capacity++;
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    t.latencies.push(performance.now() - started);
    t.cells++;
    if (result?.structuredContent?.restored_from) t.restores++;
    return result?.structuredContent ?? { status: "error", text };
  }
}

async function work(server: Server, s: Session, cells: number, t: Tally, stop = () => false) {
  for (let i = 0; i < cells && !stop(); i++) {
    const out = await execute(server, s, "++counter", t);
    const expected = String(s.counter + 1);
    if (out.result !== expected) {
      t.wrong.push(`${s.tag}: expected ${expected}, got ${out.result ?? out.text ?? out.status}`);
      const now = Number(out.result);
      if (Number.isFinite(now)) s.counter = now;
      continue;
    }
    s.counter++;
    if (i % 10 === 9) {
      const tag = await execute(server, s, "tag", t);
      if (tag.result !== JSON.stringify(s.tag)) t.foreign++;
    }
  }
}

function percentile(samples: number[], q: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

const failures: string[] = [];
function report(name: string, ok: boolean, figure: string): void {
  console.log(`${ok ? "PASS" : "FAIL"}  ${name}: ${figure}`);
  if (!ok) failures.push(name);
}

// ---- 0. hostile cells, hostile requests, the sandbox: the tests that prove them ----
const suite = await new Deno.Command(Deno.execPath(), {
  args: [
    "test",
    "-A",
    "--reporter=tap",
    "tests/hostile_cells_test.ts",
    "tests/hostile_requests_test.ts",
    "tests/kernel/sandbox_test.ts",
  ],
  cwd: ROOT,
  env: { NO_COLOR: "1" },
}).output();
for (const line of new TextDecoder().decode(suite.stdout).split("\n")) {
  const m = line.match(/^(ok|not ok) \d+ - (.*)$/);
  if (m) report(`hostile: ${m[2]}`, m[1] === "ok", m[1] === "ok" ? "held" : "FAILED");
}
if (!suite.success) report("hostile: the test run", false, `exit code ${suite.code}`);

const dataDir = await Deno.makeTempDir({ prefix: "mkh-load-" });
let server = await startServer(dataDir);
try {
  // ---- 1. load ----
  const sessions = Array.from({ length: SESSIONS }, (_, i) => new Session(i));
  const load = tally();
  const started = performance.now();
  await Promise.all(sessions.map(async (s) => {
    await open(server, s);
    await execute(server, s, `let counter = 0; const tag = ${JSON.stringify(s.tag)}`, load);
    await work(server, s, CELLS, load);
  }));
  const minutes = (performance.now() - started) / 60_000;
  const finals = await Promise.all(
    sessions.map(async (s) => ({ s, f: await execute(server, s, "counter", load) })),
  );
  const exact = finals.filter(({ s, f }) =>
    f.result === String(s.counter) && s.counter === CELLS
  ).length;
  report(
    `load: ${SESSIONS} sessions x ${CELLS} cells, cap ${CAP}`,
    load.wrong.length === 0 && load.foreign === 0 && exact === SESSIONS,
    `${load.cells} cells in ${
      (minutes * 60).toFixed(1)
    } s; ${load.wrong.length} lost or wrong values; ` +
      `${load.foreign} cross-session values; ${exact}/${SESSIONS} counters exact at the end; ` +
      `${load.capacity} "at capacity" refusals retried`,
  );
  report(
    "load: latency and restores",
    true,
    `p50 ${percentile(load.latencies, 0.5).toFixed(1)} ms, p99 ${
      percentile(load.latencies, 0.99).toFixed(1)
    } ms; ` +
      `${load.restores} kernel restores (${(load.restores / minutes).toFixed(0)} per minute)`,
  );
  if (load.wrong.length) {
    console.log(`  first wrong values: ${load.wrong.slice(0, 5).join("; ")}`);
  }

  // ---- 2. hard kills ----
  let worstLoss = 0;
  let resumed = 0;
  let invented = 0;
  const kills = tally();
  for (let round = 0; round < ROUNDS; round++) {
    let stop = false;
    const running = Promise.allSettled(
      sessions.map((s) => work(server, s, 1_000_000, kills, () => stop)),
    );
    await new Promise((r) => setTimeout(r, 300 + Math.random() * 1200));
    server.process.kill("SIGKILL");
    await server.process.status;
    stop = true;
    await running;
    server = await startServer(dataDir);
    for (const s of sessions) {
      const out = await execute(server, s, "counter", kills);
      const now = Number(out.result);
      if (!Number.isFinite(now)) continue;
      resumed++;
      if (now > s.counter) invented++;
      worstLoss = Math.max(worstLoss, s.counter - now);
      s.counter = now;
    }
  }
  const expectedResumes = ROUNDS * SESSIONS;
  // A cell answered just before the kill may be unsaved: at most SAVE_EVERY per kernel, plus the
  // interval save that had not run (the last 15 s), bounded here by the round's length.
  report(
    `hard kills: ${ROUNDS} rounds of kill -9 under load`,
    resumed === expectedResumes && invented === 0 && worstLoss <= SAVE_EVERY + 1,
    `registry reopened ${ROUNDS}/${ROUNDS} times; ${resumed}/${expectedResumes} session resumes; ` +
      `worst loss ${worstLoss} cells (save every ${SAVE_EVERY}); ${invented} counters ahead of what the client saw`,
  );
} finally {
  server.process.kill("SIGKILL");
  await server.process.status.catch(() => {});
  await Deno.remove(dataDir, { recursive: true }).catch(() => {});
}
console.log(failures.length ? `\n${failures.length} guarantee(s) failed` : "\nall guarantees held");
Deno.exit(failures.length ? 1 : 0);
