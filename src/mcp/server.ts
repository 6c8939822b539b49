/**
 * One MCP server per session: the tools of DESIGN.md section 3, bound to the session's kernel.
 * A cell that throws, a bad argument or an unknown kernel comes back as a result with
 * `isError: true` and a precise message, so the model can correct itself.
 *
 * @module
 */
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/server/mcp"
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { type Host, KernelNotFoundError } from "../host.ts";
import { newId } from "../ids.ts";
import { executeText, truncate } from "./execute_text.ts";

/** What a server knows of its session. */
export interface SessionContext {
  /** Id of the session's default kernel. */
  kernel: string;
  /** The HTTP session id; absent for stdio, whose created kernels are ephemeral. */
  sessionId?: string;
}

import { VERSION } from "../version.ts";

const errorShape = z.object({ name: z.string(), message: z.string(), stack: z.string() });

const executeOutput = {
  status: z.enum(["ok", "error", "timeout", "killed"]),
  execution_count: z.number().int(),
  result: z.string().optional(),
  stdout: z.string(),
  stderr: z.string(),
  error: errorShape.optional(),
  duration_ms: z.number(),
  kernel: z.string(),
  restored_from: z.object({ version: z.number().int(), saved_at: z.string() }).optional(),
  lost: z.string().optional(),
};

/**
 * Builds the MCP server for one session.
 *
 * @param host Where the tools send their calls.
 * @param session The session's default kernel.
 */
export function createMcpServer(host: Host, session: SessionContext): McpServer {
  const server = new McpServer(
    { name: "mcp-kernel-host", version: VERSION },
    {
      instructions: "A persistent TypeScript/JavaScript kernel (Deno). Variables, functions, " +
        "classes and imports persist between execute calls, like a notebook. Use npm: " +
        "specifiers to import packages. Files can be read and written only in the kernel's " +
        "working folder; there is no network.",
    },
  );
  const maxTimeoutMs = host.cellTimeoutMs * 10;
  /** Kernels created by a stdio session (an HTTP session's are in the registry). */
  const created = new Set<string>();
  const kernelArg = z.string().min(1).optional().describe(
    "Kernel id (default: this session's kernel). Any session holding an id may use that kernel.",
  );

  /** The kernel a call addresses; records a shared kernel's use by this session. */
  async function target(kernel: string | undefined): Promise<string> {
    const id = kernel ?? session.kernel;
    if (
      !await host.hasKernel(id) ||
      (!session.sessionId && id !== session.kernel && !created.has(id))
    ) {
      throw new KernelNotFoundError(id);
    }
    if (session.sessionId && id !== session.kernel) {
      await host.recordKernelUse(session.sessionId, id);
    }
    return id;
  }

  server.registerTool("execute", {
    title: "Run code",
    description: "Runs TypeScript or JavaScript in the session's kernel. Top-level let, const, " +
      "class, function and import bindings persist to later calls; top-level await works. " +
      "Returns stdout, stderr, the last expression's value (also kept in `_`) and any error " +
      "(kept in `_error`).",
    inputSchema: {
      code: z.string().describe("The cell to run"),
      kernel: kernelArg,
      timeout_ms: z.number().int().min(1).max(maxTimeoutMs).optional().describe(
        `Time allowed for this cell in ms (default ${host.cellTimeoutMs}, at most ${maxTimeoutMs})`,
      ),
    },
    outputSchema: executeOutput,
  }, async ({ code, timeout_ms, kernel }) => {
    const id = await target(kernel);
    const r = await host.execute(id, code, timeout_ms);
    const structured = {
      status: r.status,
      execution_count: r.executionCount,
      ...(r.result !== undefined && { result: truncate(r.result) }),
      stdout: r.stdout,
      stderr: r.stderr,
      ...(r.error && { error: r.error }),
      duration_ms: Math.round(r.durationMs * 1000) / 1000,
      kernel: id,
      ...(r.restoredFrom && {
        restored_from: {
          version: r.restoredFrom.version,
          saved_at: new Date(r.restoredFrom.savedAt).toISOString(),
        },
      }),
      ...(r.lost && { lost: r.lost }),
    };
    return {
      content: [{ type: "text", text: executeText(r) }],
      structuredContent: structured,
      isError: r.status !== "ok",
    };
  });

  server.registerTool("complete", {
    title: "Complete code",
    description: "Completion candidates at a cursor: global names, members along the " +
      'prototype chain, and keys inside obj["…. Positions are JavaScript string indices.',
    inputSchema: {
      code: z.string(),
      cursor: z.number().int().min(0).optional().describe("Index in code (default: the end)"),
      kernel: kernelArg,
    },
    outputSchema: {
      matches: z.array(z.string()),
      cursor_start: z.number().int(),
      cursor_end: z.number().int(),
    },
  }, async ({ code, cursor, kernel }) => {
    if (cursor !== undefined && cursor > code.length) {
      return toolError(`cursor ${cursor} is past the end of the code (length ${code.length})`);
    }
    const c = await host.complete(await target(kernel), code, cursor);
    const structured = { matches: c.matches, cursor_start: c.cursorStart, cursor_end: c.cursorEnd };
    return {
      content: [{ type: "text", text: c.matches.join("\n") || "(no matches)" }],
      structuredContent: structured,
    };
  });

  server.registerTool("list_variables", {
    title: "List variables",
    description: "The variables defined in the kernel: name, type, short preview and " +
      "approximate size in bytes.",
    inputSchema: { kernel: kernelArg },
    outputSchema: {
      variables: z.array(z.object({
        name: z.string(),
        type: z.string(),
        preview: z.string(),
        approx_bytes: z.number(),
      })),
    },
  }, async ({ kernel }) => {
    const list = await host.variables(await target(kernel));
    const variables = list.map((v) => ({
      name: v.name,
      type: v.type,
      preview: v.preview,
      approx_bytes: v.approxBytes,
    }));
    const text = variables.length === 0
      ? "(no variables)"
      : variables.map((v) => `${v.name}: ${v.type} = ${v.preview}`).join("\n");
    return { content: [{ type: "text", text: truncate(text) }], structuredContent: { variables } };
  });

  server.registerTool("inspect_variable", {
    title: "Inspect a variable",
    description: "Full preview, members and, for functions and classes, source of one " +
      "variable, or of a path into one such as `rows[0].name` (read without side effects).",
    inputSchema: {
      name: z.string().min(1),
      depth: z.number().int().min(0).max(20).optional().describe("Nesting shown (default 2)"),
      kernel: kernelArg,
    },
    outputSchema: {
      name: z.string(),
      type: z.string(),
      preview: z.string(),
      members: z.array(z.object({ name: z.string(), type: z.string(), preview: z.string() })),
      source: z.string().optional(),
    },
  }, async ({ name, depth, kernel }) => {
    const d = await host.inspect(await target(kernel), name, depth);
    const structured = { ...d, preview: truncate(d.preview) };
    const text = [
      `${d.name}: ${d.type}`,
      d.source ?? d.preview,
      ...(d.members.length ? ["members:", ...d.members.map((m) => `  ${m.name}: ${m.type}`)] : []),
    ].join("\n");
    return { content: [{ type: "text", text: truncate(text) }], structuredContent: structured };
  });

  server.registerTool("reset_kernel", {
    title: "Reset the kernel",
    description: "Empties the kernel's namespace and re-runs the prelude; same kernel id.",
    inputSchema: { kernel: kernelArg },
  }, async ({ kernel }) => {
    await host.reset(await target(kernel));
    return { content: [{ type: "text", text: "The kernel was reset: its namespace is empty." }] };
  });

  const kernelSummary = {
    kernel: z.string(),
    created_at: z.string(),
    last_active: z.string(),
    execution_count: z.number().int(),
    last_saved_at: z.string().nullable(),
    live: z.boolean(),
  };

  server.registerTool("kernel_info", {
    title: "Kernel facts",
    description: "Id, creation and last activity, execution count, last save, whether it runs " +
      "now and its resident memory. The id reaches this kernel from any session.",
    inputSchema: { kernel: kernelArg },
    outputSchema: { ...kernelSummary, memory_bytes: z.number().nullable() },
  }, async ({ kernel }) => {
    const info = await host.kernelInfo(await target(kernel));
    const structured = {
      kernel: info.kernel,
      created_at: iso(info.createdAt),
      last_active: iso(info.lastActive),
      execution_count: info.executionCount,
      last_saved_at: info.lastSavedAt === null ? null : iso(info.lastSavedAt),
      live: info.live,
      memory_bytes: info.memoryBytes,
    };
    const text = Object.entries(structured).map(([k, v]) => `${k}: ${v}`).join("\n");
    return { content: [{ type: "text", text }], structuredContent: structured };
  });

  server.registerTool("create_kernel", {
    title: "Create a kernel",
    description: "Creates another kernel owned by this session and returns its id; pass it as " +
      "`kernel` to the other tools. It is saved like the default kernel and deleted with the " +
      "session.",
    inputSchema: {},
    outputSchema: { kernel: z.string() },
  }, async () => {
    let id: string;
    if (session.sessionId) {
      id = newId();
      await host.registerKernel(id, session.sessionId);
    } else {
      id = await host.createKernel({ persistent: false });
      created.add(id);
    }
    return {
      content: [{ type: "text", text: `Created kernel ${id}` }],
      structuredContent: { kernel: id },
    };
  });

  server.registerTool("list_kernels", {
    title: "List kernels",
    description: "The kernels this session owns or has used.",
    inputSchema: {},
    outputSchema: {
      kernels: z.array(z.object({ ...kernelSummary, default: z.boolean(), owned: z.boolean() })),
    },
  }, async () => {
    // Over stdio every kernel listed is this session's own.
    const listed = session.sessionId
      ? (await host.sessionKernels(session.sessionId)).map((k) => ({
        id: k.id,
        owned: k.ownerSession === session.sessionId,
      }))
      : [session.kernel, ...created].map((id) => ({ id, owned: true }));
    const kernels = [];
    for (const { id, owned } of listed) {
      if (!await host.hasKernel(id)) continue;
      const info = await host.kernelInfo(id);
      kernels.push({
        kernel: id,
        default: id === session.kernel,
        owned,
        created_at: iso(info.createdAt),
        last_active: iso(info.lastActive),
        execution_count: info.executionCount,
        last_saved_at: info.lastSavedAt === null ? null : iso(info.lastSavedAt),
        live: info.live,
      });
    }
    const text = kernels.map((k) =>
      `${k.kernel}${k.default ? " (default)" : ""}${k.owned ? "" : " (shared)"}: ` +
      `${k.execution_count} cells, ${k.live ? "live" : "stored"}`
    ).join("\n");
    return { content: [{ type: "text", text }], structuredContent: { kernels } };
  });

  server.registerTool("close_kernel", {
    title: "Close a kernel",
    description: "Stops a kernel this session created and deletes its state and files. The " +
      "session's default kernel ends with the session; use reset_kernel to empty it.",
    inputSchema: { kernel: z.string().min(1) },
  }, async ({ kernel }) => {
    if (kernel === session.kernel) {
      return toolError(
        "Cannot close this session's default kernel: it ends with the session; " +
          "reset_kernel empties it",
      );
    }
    const id = await target(kernel);
    const owner = (await host.registry.getKernel(id))?.ownerSession;
    if (session.sessionId && owner !== session.sessionId) {
      return toolError(`Cannot close kernel ${id}: only the session that created it can close it`);
    }
    await host.closeKernel(id);
    created.delete(id);
    return { content: [{ type: "text", text: `Closed kernel ${id}; its state is deleted.` }] };
  });

  return server;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function toolError(message: string) {
  return { content: [{ type: "text" as const, text: message }], isError: true };
}
