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
import type { Host } from "../host.ts";
import { executeText, truncate } from "./execute_text.ts";

/** What a server knows of its session. */
export interface SessionContext {
  /** Id of the session's default kernel. */
  kernel: string;
}

const VERSION = "0.1.0";

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

  server.registerTool("execute", {
    title: "Run code",
    description: "Runs TypeScript or JavaScript in the session's kernel. Top-level let, const, " +
      "class, function and import bindings persist to later calls; top-level await works. " +
      "Returns stdout, stderr, the last expression's value (also kept in `_`) and any error " +
      "(kept in `_error`).",
    inputSchema: {
      code: z.string().describe("The cell to run"),
      timeout_ms: z.number().int().min(1).max(maxTimeoutMs).optional().describe(
        `Time allowed for this cell in ms (default ${host.cellTimeoutMs}, at most ${maxTimeoutMs})`,
      ),
    },
    outputSchema: executeOutput,
  }, async ({ code, timeout_ms }) => {
    const r = await host.execute(session.kernel, code, timeout_ms);
    const structured = {
      status: r.status,
      execution_count: r.executionCount,
      ...(r.result !== undefined && { result: truncate(r.result) }),
      stdout: r.stdout,
      stderr: r.stderr,
      ...(r.error && { error: r.error }),
      duration_ms: Math.round(r.durationMs * 1000) / 1000,
      kernel: session.kernel,
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
    },
    outputSchema: {
      matches: z.array(z.string()),
      cursor_start: z.number().int(),
      cursor_end: z.number().int(),
    },
  }, async ({ code, cursor }) => {
    if (cursor !== undefined && cursor > code.length) {
      return toolError(`cursor ${cursor} is past the end of the code (length ${code.length})`);
    }
    const c = await host.complete(session.kernel, code, cursor);
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
    inputSchema: {},
    outputSchema: {
      variables: z.array(z.object({
        name: z.string(),
        type: z.string(),
        preview: z.string(),
        approx_bytes: z.number(),
      })),
    },
  }, async () => {
    const list = await host.variables(session.kernel);
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
    },
    outputSchema: {
      name: z.string(),
      type: z.string(),
      preview: z.string(),
      members: z.array(z.object({ name: z.string(), type: z.string(), preview: z.string() })),
      source: z.string().optional(),
    },
  }, async ({ name, depth }) => {
    const d = await host.inspect(session.kernel, name, depth);
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
    inputSchema: {},
  }, async () => {
    await host.reset(session.kernel);
    return { content: [{ type: "text", text: "The kernel was reset: its namespace is empty." }] };
  });

  return server;
}

function toolError(message: string) {
  return { content: [{ type: "text" as const, text: message }], isError: true };
}
