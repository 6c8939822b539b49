/**
 * `deno task sessions`: the operator's view of the registry.
 *
 *   deno task sessions [--data-dir DIR] [--json]            list sessions and their kernels
 *   deno task sessions show ID [--data-dir DIR] [--json]    one session (or kernel) in full
 *   deno task sessions delete ID [--data-dir DIR]           end a session, delete its kernels
 *
 * Reads the same registry a running host uses (SQLite in WAL mode allows it; `--registry URL`
 * or its variable reads a PostgreSQL one). Deleting a session whose host is running leaves that
 * host's live copy until it restarts; stop the host first for a clean delete.
 *
 * @module
 */
import { join } from "node:path";
import { parseConfig } from "../src/config.ts";
import { removeKernelFolder } from "../src/kernel_folder.ts";
import { plainText } from "../src/model_text.ts";
import type { KernelRecord, Registry, SessionRecord } from "../src/registry/registry.ts";
import { openPostgresRegistry } from "../src/registry/postgres/postgres_registry.ts";
import { openSqliteRegistry } from "../src/registry/sqlite/sqlite_registry.ts";

const { json, positional, flags } = splitArgs(Deno.args);
const [command = "list", id] = positional;
const config = parseConfig(flags, Deno.env.toObject());
const path = join(config.dataDir, "registry.db");
if (config.registryUrl === undefined) {
  try {
    await Deno.stat(path);
  } catch {
    console.error(`No registry at ${path}: no host has run with this data folder yet`);
    Deno.exit(1);
  }
}
await using registry = config.registryUrl === undefined
  ? await openSqliteRegistry(path)
  : await openPostgresRegistry(config.registryUrl);

switch (command) {
  case "list":
    await list(registry);
    break;
  case "show":
    await show(registry, required(id));
    break;
  case "delete":
    await remove(registry, required(id));
    break;
  default:
    console.error(`Unknown command "${command}": use list, show ID or delete ID`);
    Deno.exit(2);
}

/** Separates `--json`, the host's flags (with their values) and the command words. */
function splitArgs(args: string[]): { json: boolean; positional: string[]; flags: string[] } {
  const out = { json: false, positional: [] as string[], flags: [] as string[] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    if (arg === "--json") out.json = true;
    else if (!arg.startsWith("--")) out.positional.push(arg);
    else if (arg.includes("=") || next === undefined || next.startsWith("--")) {
      out.flags.push(arg);
    } else {
      out.flags.push(arg, next);
      i++;
    }
  }
  return out;
}

function required(value: string | undefined): string {
  if (!value) {
    console.error("This command needs a session or kernel id");
    Deno.exit(2);
  }
  return value;
}

async function list(registry: Registry): Promise<void> {
  const sessions = await registry.listSessions();
  const named = (await registry.listKernels({ named: true })).filter((k) => k.state !== "closed");
  const kernelsOf = new Map<string, KernelRecord[]>();
  for (const s of sessions) kernelsOf.set(s.id, await registry.kernelsOfSession(s.id));
  if (json) {
    console.log(JSON.stringify(
      {
        sessions: sessions.map((s) => ({ ...s, kernels: kernelsOf.get(s.id) })),
        namedKernels: named,
      },
      null,
      2,
    ));
    return;
  }
  const rows = sessions.map((s) => {
    const kernels = kernelsOf.get(s.id) ?? [];
    return [
      s.id,
      s.endedAt ? "ended" : "open",
      iso(s.createdAt),
      iso(s.lastActiveAt),
      String(kernels.length),
      String(kernels.reduce((n, k) => n + k.executionCount, 0)),
    ];
  });
  for (const k of named) {
    rows.push([
      `kernel "${k.name}"`,
      k.state,
      iso(k.createdAt),
      iso(k.lastActiveAt),
      "1",
      String(k.executionCount),
    ]);
  }
  table(["session", "state", "created", "last active", "kernels", "cells"], rows);
}

async function show(registry: Registry, id: string): Promise<void> {
  const session = await registry.getSession(id);
  const kernel = session ? undefined : await registry.getKernel(id);
  const kernels = session ? await registry.kernelsOfSession(id) : kernel ? [kernel] : [];
  if (!session && kernels.length === 0) {
    console.error(`No session or kernel with id "${id}"`);
    Deno.exit(1);
  }
  const detail = {
    session: session && { ...session, metadata: summary(session) },
    kernels: await Promise.all(
      kernels.map(async (k) => ({ ...k, snapshots: await registry.listSnapshots(k.id) })),
    ),
  };
  if (json) {
    console.log(JSON.stringify(detail, null, 2));
    return;
  }
  if (session) {
    console.log(
      `session ${session.id}: ${session.endedAt ? `ended ${iso(session.endedAt)}` : "open"}`,
    );
    console.log(`  created ${iso(session.createdAt)}, last active ${iso(session.lastActiveAt)}`);
    console.log(`  client ${summary(session).client}`);
  }
  for (const k of detail.kernels) {
    console.log(
      `kernel ${k.id}${k.name ? ` "${k.name}"` : ""}: ${k.state}, ${k.executionCount} cells`,
    );
    for (const s of k.snapshots) {
      const flag = s.quarantined ? ` QUARANTINED (${s.quarantined.reason})` : "";
      console.log(`  snapshot v${s.version} ${iso(s.savedAt)} ${s.size} bytes${flag}`);
      for (const item of s.skipped) {
        console.log(plainText(`    not saved: ${item.path} (${item.reason})`));
      }
    }
  }
}

async function remove(registry: Registry, id: string): Promise<void> {
  const session = await registry.getSession(id);
  if (!session) {
    console.error(`No session with id "${id}"`);
    Deno.exit(1);
  }
  for (const kernel of await registry.kernelsOfSession(id)) {
    if (kernel.ownerSession !== id) continue;
    await registry.closeKernel(kernel.id);
    await removeKernelFolder(config.dataDir, kernel);
  }
  await registry.updateSession(id, { endedAt: Date.now() });
  console.log(`Ended session ${id} and deleted its kernels`);
}

function summary(session: SessionRecord): { client: string } {
  const init = session.metadata.initialize as
    | { clientInfo?: { name?: string; version?: string } }
    | undefined;
  const info = init?.clientInfo;
  // A client names itself: what it sent is shown without terminal escapes.
  const client = info ? `${info.name ?? "?"} ${info.version ?? ""}`.trim() : "unknown";
  return { client: plainText(client) };
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
}

function table(header: string[], rows: string[][]): void {
  if (rows.length === 0) {
    console.log("(no sessions)");
    return;
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}
