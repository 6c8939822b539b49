/**
 * What a cell's `import` turns into: built-in modules as usual, npm packages once the host has
 * fetched them, files only from the kernel's scratch folder and re-imported when they change
 * (IPython's autoreload).
 *
 * The process's permission flags are the real boundary (Worker permissions do not govern module
 * loading, DESIGN.md section 8); this loader adds clear messages and the reload.
 *
 * @module
 */
import type { NpmReadiness } from "../protocol.ts";
import { mentionedNpm } from "./module_mentions.ts";

/** Where an import binding came from: its module and export (`*` for the namespace). */
export interface ImportRecord {
  specifier: string;
  export: string;
  options?: ImportCallOptions;
}

/** The functions compiled cells call in place of `import`. */
export interface ModuleLoader {
  /** Imports a module, as a dynamic `import()` would. */
  import(specifier: unknown, options?: ImportCallOptions): Promise<Record<string, unknown>>;
  /**
   * Imports a module for an import declaration: checks that it has each export, as a static
   * import would, and records each binding so a snapshot can import it again.
   *
   * @param bindings `[local, export]` pairs; export `*` is the module namespace.
   */
  bind(
    specifier: string,
    bindings: [string, string][],
    options?: ImportCallOptions,
  ): Promise<Record<string, unknown>>;
  /**
   * Takes in what the host did about the `npm:` specifiers of the next request: those fetched
   * may be imported from now on, those refused are refused with the host's reason.
   */
  admitNpm(readiness: NpmReadiness | undefined): void;
  /** The import bindings made so far, by local name. */
  readonly records: Map<string, ImportRecord>;
  /** Every module imported so far, by declarations and `import()` alike, as it was asked for. */
  readonly imported: ReadonlyMap<string, Omit<ImportRecord, "export">>;
  /**
   * Globals that first appeared while a module was being imported: a library's, not the user's
   * (a snapshot imports the module again, which makes them again).
   */
  readonly libraryGlobals: ReadonlySet<string>;
}

/**
 * Builds the loader for a kernel whose files live in `scratchDir`.
 *
 * @param scratchDir Absolute path of the scratch folder; it is also the kernel's working folder.
 */
export function createModuleLoader(scratchDir: string): ModuleLoader {
  const base = new URL(`file://${scratchDir.endsWith("/") ? scratchDir : `${scratchDir}/`}`);

  function resolve(specifier: string): string {
    const isFile = /^(\.{0,2}\/|file:)/.test(specifier);
    if (!isFile) return specifier;
    const url = new URL(specifier, base);
    if (!url.pathname.startsWith(base.pathname)) {
      throw new TypeError(
        `Cannot import "${specifier}": a kernel may import files only from its scratch folder ` +
          `(${scratchDir}), npm: packages and node: built-ins`,
      );
    }
    // A new query string makes a new module instance, so an edited file is loaded afresh.
    const { mtime, size } = Deno.statSync(url);
    url.search = `?v=${mtime?.getTime() ?? 0}-${size}`;
    return url.href;
  }

  const npmFetched = new Set<string>();
  const npmRefused = new Map<string, string>();

  /**
   * Refuses an npm specifier the host did not fetch before Deno tries it: the sandbox runs
   * `--cached-only`, and there a failed npm import fails again for the rest of the process.
   */
  function checkNpm(specifier: string): void {
    if (!specifier.startsWith("npm:") || npmFetched.has(specifier)) return;
    throw new TypeError(
      npmRefused.get(specifier) ??
        `Cannot import "${specifier}": npm: specifiers must be literal in the cell, so the host ` +
          `can fetch the package before the cell runs; write import("npm:name@version") or ` +
          `import … from "npm:name@version" with the name in the cell's text`,
    );
  }

  /** The same for the packages a scratch-folder module may import (see module_mentions.ts). */
  async function checkModuleNpm(specifier: string, url: string): Promise<void> {
    const mentioned = await mentionedNpm([new URL(url)], scratchDir);
    const unfetched = mentioned.filter((s) => !npmFetched.has(s));
    if (unfetched.length === 0) return;
    const named = unfetched.map((s) => `"${s}"`).join(", ");
    const refusal = unfetched.map((s) => npmRefused.get(s)).find((r) => r !== undefined);
    throw new TypeError(
      `Cannot import "${specifier}", which imports ${named}: ` +
        (refusal?.replace(/^Cannot import "[^"]*": /, "") ??
          "the host fetches the npm packages of scratch-folder modules before a cell runs, " +
            "for the modules the cell imports by a literal path; import it in a new cell"),
    );
  }

  const libraryGlobals = new Set<string>();
  const imported = new Map<string, Omit<ImportRecord, "export">>();
  const loader: ModuleLoader = {
    records: new Map(),
    imported,
    libraryGlobals,
    admitNpm(readiness) {
      for (const specifier of readiness?.fetched ?? []) {
        npmFetched.add(specifier);
        npmRefused.delete(specifier);
      }
      for (const [specifier, reason] of Object.entries(readiness?.refused ?? {})) {
        npmRefused.set(specifier, reason);
      }
    },
    async import(specifier, options) {
      checkNpm(String(specifier));
      const url = resolve(String(specifier));
      if (url.startsWith("file:")) await checkModuleNpm(String(specifier), url);
      imported.set(JSON.stringify([String(specifier), options ?? null]), {
        specifier: String(specifier),
        ...(options && { options }),
      });
      const before = new Set(Object.getOwnPropertyNames(globalThis));
      try {
        return await import(url, options);
      } finally {
        for (const name of Object.getOwnPropertyNames(globalThis)) {
          if (!before.has(name)) libraryGlobals.add(name);
        }
      }
    },
    async bind(specifier, bindings, options) {
      const module = await loader.import(specifier, options);
      for (const [, name] of bindings) {
        if (name !== "*" && !(name in module)) {
          throw new SyntaxError(
            `The module "${specifier}" does not provide an export named "${name}"`,
          );
        }
      }
      for (const [local, name] of bindings) {
        loader.records.set(local, { specifier, export: name, ...(options && { options }) });
      }
      return module;
    },
  };
  return loader;
}
