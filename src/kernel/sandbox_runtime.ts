/**
 * Where a sandbox process comes from: a `deno` executable and the sandbox's source files.
 *
 * Run from source, that is the running `deno` and the files next to this one. A binary built by
 * `deno compile` cannot be used: it ignores permission flags given at run time, so it could not
 * confine a kernel. The compiled host therefore writes its embedded sandbox sources to a
 * temporary folder once and starts each sandbox with a `deno` executable
 * (`MCP_KERNEL_HOST_DENO`, else `deno` on the PATH) under the same flags as ever.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** A `deno` and the sandbox's entry point and Worker folder. */
export interface SandboxRuntime {
  deno: string;
  /** Absolute path of `sandbox.ts`. */
  main: string;
  /** Absolute path of the folder of Worker modules, the only code a sandbox may read. */
  workerDir: string;
}

/** Every file a sandbox loads, relative to this folder; `deno task compile` embeds them. */
export const SANDBOX_FILES = [
  "sandbox.ts",
  "bytes.ts",
  "frames.ts",
  "request_stream.ts",
  "protocol.ts",
  "worker/kernel_worker.ts",
  "worker/builtin_values.ts",
  "worker/cell_interrupt.ts",
  "worker/class_map.ts",
  "worker/compiled_cell.ts",
  "worker/decoded_tree.ts",
  "worker/complete.ts",
  "worker/format.ts",
  "worker/function_source.ts",
  "worker/image_bytes.ts",
  "worker/jupyter.ts",
  "worker/library_values.ts",
  "worker/json_chunks.ts",
  "worker/module_loader.ts",
  "worker/module_mentions.ts",
  "worker/namespace.ts",
  "worker/nested_workers.ts",
  "worker/own_names.ts",
  "worker/render.ts",
  "worker/repl.ts",
  "worker/restore_hold.ts",
  "worker/save_yield.ts",
  "worker/snapshot.ts",
  "worker/snapshot_codec.ts",
  "worker/snapshot_decode.ts",
  "worker/shown_source.ts",
  "worker/snapshot_format.ts",
  "worker/snapshot_body.ts",
  "worker/body_writer.ts",
  "worker/state_probe.ts",
  "worker/table.ts",
] as const;

let extracted: Promise<SandboxRuntime> | undefined;

/**
 * The runtime for this process: the source files in place, or, in a compiled binary, the
 * extracted copy and a `deno` from the environment.
 *
 * @throws {Error} In a compiled binary with no `deno` executable to be found.
 */
export function sandboxRuntime(): Promise<SandboxRuntime> {
  if (!Deno.build.standalone) {
    const here = fileURLToPath(new URL(".", import.meta.url));
    return Promise.resolve({
      deno: Deno.execPath(),
      main: join(here, "sandbox.ts"),
      workerDir: join(here, "worker"),
    });
  }
  extracted ??= extractRuntime(findDeno());
  return extracted;
}

/**
 * Writes the sandbox sources to a new temporary folder and describes a runtime using them.
 *
 * @param deno The `deno` executable that will run them.
 */
export async function extractRuntime(deno: string): Promise<SandboxRuntime> {
  const root = await Deno.makeTempDir({ prefix: "mcp-kernel-host-runtime-" });
  for (const file of SANDBOX_FILES) {
    const target = join(root, file);
    await Deno.mkdir(dirname(target), { recursive: true });
    await Deno.writeTextFile(target, await Deno.readTextFile(new URL(file, import.meta.url)));
  }
  return { deno, main: join(root, "sandbox.ts"), workerDir: join(root, "worker") };
}

function findDeno(): string {
  const configured = Deno.env.get("MCP_KERNEL_HOST_DENO");
  if (configured) return configured;
  const sep = Deno.build.os === "windows" ? ";" : ":";
  const name = Deno.build.os === "windows" ? "deno.exe" : "deno";
  for (const dir of (Deno.env.get("PATH") ?? "").split(sep)) {
    const candidate = join(dir, name);
    try {
      if (Deno.statSync(candidate).isFile) return candidate;
    } catch {
      // Not in this folder.
    }
  }
  throw new Error(
    "Cannot start a kernel: a compiled mcp-kernel-host runs each kernel's sandbox with a deno " +
      "executable, and none was found; install deno or set MCP_KERNEL_HOST_DENO to its path",
  );
}
