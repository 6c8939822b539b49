/**
 * A package a kernel's process resolved but did not find in the npm cache. Sandboxes run
 * `--cached-only`, and the host fetches what a cell names before it runs (see
 * `npm_prefetch.ts`); Deno may still resolve a dependency to a version the host's fetch did not
 * pick (its resolution depends on what the process loaded before). Such a miss fails again for
 * the rest of the process, even once the package is in the cache (measured with Deno 2.9.6).
 *
 * @module
 */
import type { ErrorInfo } from "./protocol.ts";

/**
 * The `name@version` an error says a `--cached-only` process could not find in the npm cache,
 * e.g. `d3-array@3.2.5` from "Failed caching npm package 'd3-array@3.2.5' … npm package not
 * found in cache: "d3-array", --cached-only is specified."; `undefined` for any other error.
 */
export function missedNpmPackage(error: ErrorInfo | undefined): string | undefined {
  if (error === undefined) return undefined;
  const text = `${error.message}\n${error.stack}`;
  if (!/not found in cache[^\n]*--cached-only/.test(text)) return undefined;
  return /Failed caching npm package '((?:@[\w.-]+\/)?[\w.-]+@[\w.+-]+)'/.exec(text)?.[1];
}

/** What the cell's error says once the host reacted to the miss of `spec`. */
export function missedNpmWords(spec: string, fetchError: string | undefined): string {
  const why = `Deno resolved a dependency to ${spec}, which the host had not fetched before ` +
    "the cell (the kernel's sandbox cannot download, and a process that missed a package " +
    "cannot load it later).";
  return fetchError === undefined
    ? `${why} The host has fetched it now and moved the kernel to a fresh process with its ` +
      "variables: run the cell again."
    : `${why} The host could not fetch it either: ${fetchError}`;
}
