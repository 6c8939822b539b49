/**
 * The host's version, read from `deno.json` so a release changes it in one place. The import
 * puts `deno.json` in the module graph, so `deno compile` embeds it without an `--include`.
 *
 * @module
 */
import denoJson from "../deno.json" with { type: "json" };

/** The version the MCP server announces and `--version` prints, e.g. `0.1.0`. */
export const VERSION: string = denoJson.version;
