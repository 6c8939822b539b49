/**
 * Streamable HTTP as a plain `(Request) => Promise<Response>` handler (tests call it without a
 * port; `Deno.serve` runs it). One `McpServer` and transport per session: a shared server would
 * leak between clients.
 *
 * Before any session logic: the path must be `/mcp`, `Host` must name this machine (against DNS
 * rebinding), `Origin`, when sent, must be local or allowed by flag, the bearer token must match
 * when one is set, and a body must be JSON of at most the size limit.
 *
 * Two protocol eras share the endpoint; the SDK's `isLegacyRequest` tells them apart. A request
 * of the 2026-07-28 revision (its `_meta` carries the protocol version) is served statelessly by
 * the SDK's `createMcpHandler`, one server per request, its kernels named by handle; closing its
 * response stream cancels it. Everything else is the 2025-11-25 era, with sessions:
 *
 * Sessions: `initialize` creates one with a 256-bit base64url id; its default kernel's id is
 * derived from it one way (holding a kernel id never grants the session). A request carrying an id the registry knows but this process does not (after a
 * restart) resumes it: a fresh transport is brought to the initialized state by replaying the
 * session's stored `initialize` parameters. An unknown or ended id gets 404; a request without an
 * id that is not `initialize`, 400; `DELETE` ends the session and deletes its kernels.
 *
 * Replies are JSON unless a request asks for progress; then they stream as SSE (see
 * `json_replies.ts`).
 *
 * @module
 */
import {
  createMcpHandler,
  isLegacyRequest,
  WebStandardStreamableHTTPServerTransport,
} from "@modelcontextprotocol/server";
import { type Host, sessionlessCaller } from "../host.ts";
import { TooManySessionsError } from "../sessions.ts";
import { newId } from "../ids.ts";
import { log } from "../log.ts";
import { isLoopback, LOOPBACK_HOSTS } from "../loopback.ts";
import { jsonReply, wantsProgress } from "./json_replies.ts";
import { createMcpServer } from "./server.ts";

/** Request bodies above this many bytes are refused with 413 (DESIGN.md section 2). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** How the handler checks requests. */
export interface HttpOptions {
  host: Host;
  /** Origins allowed besides local ones, exactly as browsers send them (`https://app.example`). */
  allowedOrigins?: string[];
  /** Host names answered besides loopback ones, e.g. the address the server is bound to. */
  allowedHosts?: string[];
  /** When set, every request needs `Authorization: Bearer <token>`. */
  authToken?: string;
  /** Body limit in bytes (default 4 MiB). */
  maxBodyBytes?: number;
  /** Where problems are reported (default: stderr). Never given cell code or session ids. */
  log?: (message: string) => void;
  /**
   * Sessions whose transport stays in memory (default {@linkcode MAX_LIVE_SESSIONS}); the least
   * recently used idle one beyond is closed, and resumed from the registry on its next request.
   */
  maxLiveSessions?: number;
}

/** Session transports kept in memory by default: each costs about 150 kB. */
export const MAX_LIVE_SESSIONS = 1000;

/** The handler and the sessions it holds. */
export interface HttpHandler {
  fetch(request: Request): Promise<Response>;
  /** Closes every live session's transport (their kernels stay; the host saves them). */
  close(): Promise<void>;
}

interface LiveSession {
  transport: WebStandardStreamableHTTPServerTransport;
  /** Requests of this session being answered now: a session with some is never closed. */
  active: number;
  close(): Promise<void>;
}

/** Builds the MCP endpoint's request handler. */
export function createHttpHandler(options: HttpOptions): HttpHandler {
  const host = options.host;
  const maxBody = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const allowedHosts = new Set([...LOOPBACK_HOSTS, ...(options.allowedHosts ?? [])]);
  const allowedOrigins = new Set(options.allowedOrigins ?? []);
  const report = options.log ?? ((m: string) => log("warn", m));
  const sessions = new Map<string, Promise<LiveSession | undefined>>();
  const maxLive = options.maxLiveSessions ?? MAX_LIVE_SESSIONS;
  // A session the host ended for idleness is dropped here too; its id then gets 404.
  const unsubscribe = host.sessions.onEnded((id) => drop(id));

  /** Closes a live session's transport and forgets it (its record and kernels stay). */
  function drop(id: string): void {
    const live = sessions.get(id);
    sessions.delete(id);
    live?.then((s) => s?.close()).catch(() => {});
  }

  /** Marks `id` most recently used and closes the least recently used idle ones beyond the cap. */
  async function touchLive(id: string, live: Promise<LiveSession | undefined>): Promise<void> {
    sessions.delete(id);
    sessions.set(id, live);
    if (sessions.size <= maxLive) return;
    for (const [other, promise] of sessions) {
      if (sessions.size <= maxLive) break;
      if (other === id) continue;
      const session = await promise.catch(() => undefined);
      if (session && session.active > 0) continue;
      drop(other);
    }
  }
  const modern = createMcpHandler(() => createMcpServer(host, sessionlessCaller()), {
    legacy: "reject",
    maxRequestBodySize: maxBody,
    // A request the SDK refused (a missing or mismatched header, a bad body) was answered 400 to
    // its client: normal for a client that mirrors tool arguments into headers only once it has
    // listed the tools, so it is no host problem to warn about. Its reason only: the SDK's
    // message quotes the arguments, a kernel handle among them.
    onerror: (e) =>
      e.message.startsWith("Rejected inbound request")
        ? log("debug", `a 2026-07-28 request was refused: ${e.message.split(":")[0]}`)
        : report(`a 2026-07-28 request failed: ${e.message}`),
  });

  /**
   * A transport and server for session `id`: a new session (recorded with its `initialize`
   * parameters once initialized) or, with `replay`, one resumed after a restart.
   */
  async function open(
    id: string,
    url: string,
    start: { initialize: unknown } | { replay: unknown },
  ): Promise<LiveSession> {
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      // Streams, so progress can flow; `answer` turns replies that need none back into JSON.
      enableJsonResponse: false,
      onsessioninitialized: async (sid) => {
        // A resumed session replays its initialize, which must not record or log it again.
        if (!("initialize" in start)) return;
        await host.sessions.open(sid, { initialize: start.initialize });
        log("info", "a session started");
        log("debug", "session started", { session: sid });
      },
      onsessionclosed: async (sid) => {
        sessions.delete(sid);
        await host.sessions.end(sid);
        log("info", "a session ended");
        log("debug", "session ended", { session: sid });
      },
    });
    const defaultKernel = await host.sessions.defaultKernelOf(id);
    const server = createMcpServer(host, { defaultKernel, sessionId: id, created: new Set() });
    await server.connect(transport);
    const live: LiveSession = {
      transport,
      active: 0,
      async close() {
        await server.close();
      },
    };
    if ("replay" in start) {
      await host.sessions.resume(id);
      log("info", "a session resumed after a restart");
      log("debug", "session resumed", { session: id });
      // Read to the end: the session is initialized once the reply is complete.
      await (await transport.handleRequest(
        post(url, { jsonrpc: "2.0", id: "resume", method: "initialize", params: start.replay }),
      )).text();
      await transport.handleRequest(
        post(url, { jsonrpc: "2.0", method: "notifications/initialized" }, id),
      );
    }
    return live;
  }

  /** A stored session brought back after a restart, or `undefined` if none is open by `id`. */
  async function resume(id: string, url: string): Promise<LiveSession | undefined> {
    const record = await host.sessions.get(id);
    if (!record) return undefined;
    return await open(id, url, {
      replay: (record.metadata as { initialize?: unknown }).initialize,
    });
  }

  async function fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== "/mcp") return error(404, -32601, "Not found: the MCP endpoint is /mcp");
    const hostHeader = request.headers.get("host") ?? url.host;
    if (!allowedHosts.has(hostName(hostHeader))) {
      return error(403, -32000, `Forbidden: Host "${hostHeader}" is not allowed`);
    }
    const origin = request.headers.get("origin");
    if (origin !== null && !originAllowed(origin, allowedOrigins)) {
      return error(403, -32000, `Forbidden: Origin "${origin}" is not allowed`);
    }
    if (options.authToken !== undefined && !(await tokenMatches(request, options.authToken))) {
      return error(401, -32000, "Unauthorized: a valid bearer token is required", {
        "WWW-Authenticate": 'Bearer realm="mcp-kernel-host"',
      });
    }
    if (!["POST", "GET", "DELETE"].includes(request.method)) {
      return error(405, -32000, `Method ${request.method} is not allowed`, {
        Allow: "GET, POST, DELETE",
      });
    }
    let body: unknown;
    let bytes: Uint8Array<ArrayBuffer> | undefined;
    if (request.method === "POST") {
      const type = request.headers.get("content-type") ?? "";
      if (!type.toLowerCase().includes("application/json")) {
        return error(
          415,
          -32000,
          `Unsupported Media Type: expected application/json, got "${type}"`,
        );
      }
      bytes = await readLimited(request, maxBody);
      if (!bytes) {
        return error(
          413,
          -32000,
          `Payload Too Large: the body exceeds ${maxBody} bytes; send a larger file as several ` +
            "upload_file calls with offset (about 3,000,000 bytes each)",
        );
      }
      try {
        body = JSON.parse(new TextDecoder().decode(bytes));
      } catch (e) {
        return error(400, -32700, `Parse error: ${(e as Error).message}`);
      }
    }
    // The signal comes along: a client that closes the stream cancels its request.
    const rebuilt = bytes
      ? new Request(request.url, {
        method: "POST",
        headers: request.headers,
        body: bytes,
        signal: request.signal,
      })
      : request;
    if (!await isLegacyRequest(rebuilt, body, { maxRequestBodySize: maxBody })) {
      return await modern.fetch(rebuilt, { parsedBody: body });
    }
    const sessionId = request.headers.get("mcp-session-id");
    if (!sessionId) {
      if (request.method === "POST" && isInitialize(body)) {
        try {
          await host.sessions.checkRoom();
        } catch (e) {
          if (!(e instanceof TooManySessionsError)) throw e;
          return error(503, -32000, e.message, { "Retry-After": "60" });
        }
        const id = newId();
        const live = await open(id, request.url, {
          initialize: (body as { params?: unknown }).params,
        });
        const response = await answer(live, rebuilt, body);
        if (response.ok) await touchLive(id, Promise.resolve(live));
        else await live.close();
        return response;
      }
      return error(
        400,
        -32000,
        "Bad Request: Mcp-Session-Id header is required; send initialize first",
      );
    }
    let live = sessions.get(sessionId);
    if (!live) {
      // Set at once, so that concurrent requests of one resumed session share one transport.
      live = resume(sessionId, request.url);
      sessions.set(sessionId, live);
      live.then((found) => found ?? sessions.delete(sessionId), (e) => {
        sessions.delete(sessionId);
        report(`resuming a session failed: ${e}`);
      });
    }
    const session = await live;
    if (!session) {
      return error(404, -32001, "Session not found: it was never created here, or it ended");
    }
    host.sessions.touch(sessionId).catch((e) => {
      report(`recording session activity failed: ${(e as Error).message}`);
    });
    await touchLive(sessionId, live);
    session.active++;
    let response: Response;
    try {
      response = await answer(session, rebuilt, body);
    } catch (e) {
      session.active--;
      throw e;
    }
    // A stream (progress, or a GET for notifications) keeps the session active until it ends.
    return whenDone(response, () => session.active--);
  }

  /** The transport's reply, as JSON unless the request asked for progress. */
  async function answer(session: LiveSession, request: Request, body: unknown): Promise<Response> {
    const response = await session.transport.handleRequest(request, { parsedBody: body });
    return request.method === "POST" && !wantsProgress(body) ? jsonReply(response) : response;
  }

  return {
    fetch,
    async close() {
      unsubscribe();
      await modern.close();
      const all = await Promise.allSettled([...sessions.values()]);
      sessions.clear();
      for (const s of all) if (s.status === "fulfilled") await s.value?.close();
    },
  };
}

/** `response`, calling `done` once its body has been read to the end or cancelled. */
function whenDone(response: Response, done: () => void): Response {
  if (!response.body) {
    done();
    return response;
  }
  const reader = response.body.getReader();
  let called = false;
  const finish = () => {
    if (called) return;
    called = true;
    done();
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done: ended } = await reader.read();
        if (ended) {
          finish();
          controller.close();
        } else controller.enqueue(value);
      } catch (e) {
        finish();
        controller.error(e);
      }
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason);
    },
  });
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

function post(url: string, message: unknown, sessionId?: string): Request {
  return new Request(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...(sessionId && { "mcp-session-id": sessionId }),
    },
    body: JSON.stringify(message),
  });
}

function isInitialize(body: unknown): boolean {
  return typeof body === "object" && body !== null && !Array.isArray(body) &&
    (body as { method?: unknown }).method === "initialize";
}

/** `example.com:8000` → `example.com`; `[::1]:8000` → `[::1]`. */
function hostName(host: string): string {
  const bracket = host.match(/^\[[^\]]+\]/)?.[0];
  const [name = ""] = host.split(":");
  return (bracket ?? name).toLowerCase();
}

function originAllowed(origin: string, allowed: Set<string>): boolean {
  if (allowed.has(origin)) return true;
  try {
    const url = new URL(origin);
    return isLoopback(url.hostname) && /^https?:$/.test(url.protocol);
  } catch {
    return false;
  }
}

async function tokenMatches(request: Request, token: string): Promise<boolean> {
  const header = request.headers.get("authorization") ?? "";
  const given = header.match(/^Bearer\s+(.+)$/i)?.[1] ?? "";
  // Compare digests, so the time taken says nothing about how much of the token matched.
  const digest = (t: string) => crypto.subtle.digest("SHA-256", new TextEncoder().encode(t));
  const [a, b] = await Promise.all([digest(given), digest(token)]);
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  if (x.length !== y.length) return false;
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

/** Reads a body up to `limit` bytes; `undefined` when it is larger. */
async function readLimited(
  request: Request,
  limit: number,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > limit) return undefined;
  if (!request.body) return new Uint8Array(0);
  if (Number.isSafeInteger(declared)) {
    // Its length is known and within the limit (the server holds a body to the length it
    // declares): read at once, not chunk by chunk through a stream reader.
    const whole = new Uint8Array(await request.arrayBuffer());
    return whole.length > limit ? undefined : whole;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function error(
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return Response.json({ jsonrpc: "2.0", error: { code, message }, id: null }, {
    status,
    headers,
  });
}
