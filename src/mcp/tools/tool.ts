/**
 * What a tool is: its name, schemas and annotations, and a handler that calls the host and
 * builds content with `../content.ts`. The SDK validates arguments against `inputSchema` before
 * the handler runs, and turns an error the handler throws into an `isError` result with the
 * error's message.
 *
 * @module
 */
import type { CallToolResult, ToolAnnotations } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { Caller, Host, KernelInfo } from "../../host.ts";

/** What a handler works with: the host, who is calling, and this one call. */
export interface ToolContext {
  host: Host;
  caller: Caller;
  call: CallContext;
}

/** One tool call as the client made it. */
export interface CallContext {
  /** Aborted when the client cancels the call (`notifications/cancelled`). */
  signal: AbortSignal;
  /**
   * Sends a `notifications/progress` for this call; absent when the client sent no progress
   * token. `progress` must grow from one notification to the next.
   */
  progress?: (update: { progress: number; message: string }) => Promise<void>;
}

/** One MCP tool, registered by `../server.ts`. */
export interface Tool<Shape extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  title: string;
  /** What the model reads; a function where it states the host's configuration. */
  description: string | ((host: Host) => string);
  /** The arguments; a function where their bounds come from the host's configuration. */
  inputSchema: Shape | ((host: Host) => Shape);
  /** The shape of `structuredContent`, for tools that return it. */
  outputSchema?: z.ZodRawShape;
  annotations: ToolAnnotations;
  /**
   * The tool works on one kernel and reports its state as `execute` would (a restore, a loss, a
   * failed save; see `../kernel_state.ts`); its output schema gains those optional fields.
   */
  reportsKernelState?: true;
  /** Serves one call with arguments already validated against `inputSchema`. */
  handler(args: z.output<z.ZodObject<Shape>>, ctx: ToolContext): Promise<CallToolResult>;
}

/**
 * Declares a tool, inferring its arguments' type from `inputSchema`.
 *
 * @example
 * ```ts
 * export const ping = defineTool({
 *   name: "ping",
 *   title: "Ping",
 *   description: "Answers pong.",
 *   inputSchema: {},
 *   annotations: { readOnlyHint: true },
 *   handler: () => Promise.resolve(textResult("pong")),
 * });
 * ```
 */
export function defineTool<Shape extends z.ZodRawShape>(tool: Tool<Shape>): Tool<Shape> {
  return tool;
}

/**
 * Marks a tool's `kernel` argument with `x-mcp-header` (SEP-2243), so 2026-07-28 clients mirror
 * it into the `Mcp-Param-Kernel` header that a load balancer can route on; the SDK checks that
 * header against the argument.
 */
const ROUTING_HEADER = { "x-mcp-header": "Kernel" };

/** The optional `kernel` argument of every tool that works on one kernel: its handle. */
export const kernelArg = z.string().min(1).optional().meta({
  description: "Kernel handle (its id). With a session (MCP 2025-11-25) or over stdio, omit it " +
    "to use the session's kernel. Without a session (MCP 2026-07-28 over HTTP) pass the handle " +
    "that execute or create_kernel returned; execute without one creates a kernel. Anyone " +
    "holding a handle may use that kernel.",
  ...ROUTING_HEADER,
});

/** The `kernel` argument of a tool that needs one, e.g. `close_kernel`. */
export const requiredKernelArg = z.string().min(1).meta({
  description: "Kernel handle (its id)",
  ...ROUTING_HEADER,
});

/** The facts `kernel_info` and `list_kernels` share, as structured content. */
export const kernelSummary = {
  kernel: z.string(),
  created_at: z.string(),
  last_active: z.string(),
  execution_count: z.number().int(),
  last_saved_at: z.string().nullable(),
  live: z.boolean(),
};

/** The fields of {@linkcode kernelSummary} after `kernel`, from the host's facts. */
export function summaryFields(
  info: Pick<KernelInfo, "createdAt" | "lastActive" | "executionCount" | "lastSavedAt" | "live">,
) {
  return {
    created_at: iso(info.createdAt),
    last_active: iso(info.lastActive),
    execution_count: info.executionCount,
    last_saved_at: info.lastSavedAt === null ? null : iso(info.lastSavedAt),
    live: info.live,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
