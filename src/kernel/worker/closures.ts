/**
 * Which functions close over local variables, so a snapshot can say they do not come back: a
 * function is saved by its source, and the variables it captured are not in it.
 *
 * V8 lists a function's scope chain in the inspector's internal `[[Scopes]]` property. Global
 * and Script scopes hold the session's own variables, which a snapshot restores. Any other
 * scope (a Closure, a Block, a Module) holds captured locals, except the Block a named class or
 * function expression makes for its own name, which its source declares again.
 *
 * @module
 */
import type { Repl } from "./repl.ts";

interface RemoteObject {
  objectId?: string;
  description?: string;
}

interface Property {
  name: string;
  value?: RemoteObject;
}

const PROBE = Symbol.for("mcp-kernel-host.probe");
const GROUP = "closures";
const RESTORED_SCOPES = /^(Global|Script)\b/;

/** Finds the local variables functions captured, through the Worker's inspector session. */
export class ClosureProbe {
  #repl: Repl;

  /** @param repl The REPL whose inspector session looks into the functions. */
  constructor(repl: Repl) {
    this.#repl = repl;
  }

  /**
   * Names of the local variables `fn` closes over (its source does not bring them back); empty
   * when it captures none, or when `fn` cannot be looked into.
   */
  async captured(fn: unknown): Promise<string[]> {
    if (typeof fn !== "function") return [];
    (globalThis as Record<symbol, unknown>)[PROBE] = fn;
    try {
      const { result } = await this.#repl.post<{ result: RemoteObject }>("Runtime.evaluate", {
        expression: `globalThis[Symbol.for(${JSON.stringify(Symbol.keyFor(PROBE))})]`,
        objectGroup: GROUP,
      });
      const internal = await this.#internal(result.objectId);
      const scopes = internal.find((p) => p.name === "[[Scopes]]")?.value;
      const names: string[] = [];
      for (const scope of await this.#own(scopes?.objectId)) {
        if (RESTORED_SCOPES.test(scope.value?.description ?? "")) continue;
        const variables = (await this.#own(scope.value?.objectId)).map((p) => p.name);
        if (variables.length === 1 && variables[0] === fn.name) continue;
        names.push(...variables);
      }
      return names;
    } catch {
      return [];
    } finally {
      delete (globalThis as Record<symbol, unknown>)[PROBE];
      await this.#repl.post("Runtime.releaseObjectGroup", { objectGroup: GROUP });
    }
  }

  async #internal(objectId: string | undefined): Promise<Property[]> {
    if (!objectId) return [];
    const { internalProperties = [] } = await this.#repl.post<{
      internalProperties?: Property[];
    }>("Runtime.getProperties", { objectId, ownProperties: true });
    return internalProperties;
  }

  async #own(objectId: string | undefined): Promise<Property[]> {
    if (!objectId) return [];
    const { result = [] } = await this.#repl.post<{ result?: Property[] }>(
      "Runtime.getProperties",
      { objectId, ownProperties: true },
    );
    return result;
  }
}
