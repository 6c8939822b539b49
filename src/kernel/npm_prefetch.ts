/**
 * The host's side of a cell's `npm:` imports: sandboxes never download (`--cached-only`), so
 * before a cell runs, the host fetches the packages it names into the npm cache that sandboxes
 * read, with `deno cache` under the host's own environment (see `deno_env.ts`), and tells the
 * kernel what it fetched and what it refused.
 *
 * Found are the cell's literal specifiers and those mentioned by the scratch-folder files it
 * imports by a literal path, and by the files those mention in turn (`module_mentions.ts`). A
 * specifier computed at run time is not found: the kernel refuses it with the rule, and refuses
 * a module whose packages were not fetched (written or changed after the cell started, or
 * imported by a computed path); the next cell that imports it literally gets them fetched.
 *
 * @module
 */
import { emptyHome, fetchEnv } from "./deno_env.ts";
import { type ModuleImports, npmRefusal } from "./npm_imports.ts";
import type { NpmReadiness } from "./protocol.ts";
import { mentionedNpm } from "./worker/module_mentions.ts";

/** How to fetch a cell's packages. */
export interface PrefetchOptions {
  /** Absolute path of the kernel's scratch folder, where relative file imports are read. */
  scratchDir: string;
  /** The `deno` executable to run: the one that runs the sandboxes. */
  deno: string;
  /** Packages kernels may import (`--npm-allow`); `undefined` (the default): every package. */
  allow?: readonly string[];
  /** Stops the fetch (the cell's timeout or cancel); what was not fetched is refused. */
  signal?: AbortSignal;
}

/** Characters of `deno cache`'s error kept in the message to the cell. */
const MAX_REASON = 600;

/**
 * Specifiers fetched by this process. The npm cache only grows, so one successful fetch is
 * enough: a cell that imports a package fetched before costs no subprocess.
 */
const fetched = new Set<string>();

/**
 * Fetches the `npm:` packages that code importing `imports` will need.
 *
 * @returns What the kernel may import and what it must refuse, or `undefined` when the code
 * imports no npm package (no subprocess is run then).
 */
export async function prefetchNpm(
  imports: ModuleImports,
  options: PrefetchOptions,
): Promise<NpmReadiness | undefined> {
  const specifiers = new Set(imports.npm);
  if (imports.files.length > 0) {
    const base = new URL(`file://${options.scratchDir.replace(/\/?$/, "/")}`);
    const modules = imports.files.map((file) => new URL(file, base));
    for (const s of await mentionedNpm(modules, options.scratchDir)) specifiers.add(s);
  }
  if (specifiers.size === 0) return undefined;
  const readiness: NpmReadiness = { fetched: [], refused: {} };
  const missing: string[] = [];
  for (const specifier of specifiers) {
    const refusal = npmRefusal(specifier, options.allow);
    if (refusal) readiness.refused[specifier] = refusal;
    else if (fetched.has(specifier)) readiness.fetched.push(specifier);
    else missing.push(specifier);
  }
  if (missing.length === 0) return readiness;
  // One `deno cache` for all; only when it fails, one per specifier, to name the culprits.
  const batch = await denoCache(missing, options);
  const outcomes = batch === undefined || missing.length === 1
    ? missing.map((s) => [s, batch] as const)
    : await Promise.all(missing.map(async (s) => [s, await denoCache([s], options)] as const));
  for (const [specifier, error] of outcomes) {
    if (error === undefined) {
      fetched.add(specifier);
      readiness.fetched.push(specifier);
    } else {
      readiness.refused[specifier] = `Cannot import "${specifier}": the host could not fetch ` +
        `it: ${error}`;
    }
  }
  return readiness;
}

/** Runs `deno cache`; resolves with its error in a few lines, `undefined` on success. */
async function denoCache(
  specifiers: string[],
  options: PrefetchOptions,
): Promise<string | undefined> {
  if (options.signal?.aborted) return stopped();
  try {
    const output = await new Deno.Command(options.deno, {
      args: ["cache", "--quiet", "--no-config", "--no-lock", ...specifiers],
      // Not the scratch folder: Deno would read an `.npmrc` a cell put there.
      cwd: await emptyHome(),
      clearEnv: true,
      env: fetchEnv(),
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      signal: options.signal,
    }).output();
    if (output.success) return undefined;
    if (options.signal?.aborted) return stopped();
    const text = new TextDecoder().decode(output.stderr).replace(/^error: /gm, "").trim();
    return (text || `deno cache exited with code ${output.code}`).slice(0, MAX_REASON);
  } catch (error) {
    return options.signal?.aborted ? stopped() : (error as Error).message;
  }
}

function stopped(): string {
  return "the fetch was stopped (the cell was cancelled or ran out of time)";
}
