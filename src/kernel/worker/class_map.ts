/**
 * Where the classes and other values of imported modules can be found again, so an instance of
 * one (an arquero table, say) gets its class back after the module is imported again in a
 * restored kernel, and a variable that holds a module's function or namespace object
 * (`const op = aq.op`, `const { mean } = ss`) gets that very value back: evaluated again from its
 * source, such a function would miss the module's own names (arquero's `op.sum` calls `op`).
 *
 * A value is found by walking the modules the kernel imported (by declarations or `import()`):
 * each export, and one level down the data properties of each exported object or function
 * (arquero's `internal.ColumnTable`, a default export's members). Getters are never called.
 *
 * @module
 */
import { isNativeFunction } from "./function_source.ts";
import type { ModuleLoader } from "./module_loader.ts";
/** A value as an import finds it: the module, then the property path from its namespace. */
export interface ClassRef {
  specifier: string;
  path: string[];
  options?: ImportCallOptions;
}

/** Properties looked at per module, so a huge export object cannot stall a save. */
const MAX_PROPERTIES_PER_MODULE = 5_000;

/**
 * Maps each function and object reachable from the modules the kernel imported to where it is
 * found; the shortest path wins. Modules that no longer import are left out.
 */
export async function exportedValues(loader: ModuleLoader): Promise<Map<unknown, ClassRef>> {
  const found = new Map<unknown, ClassRef>();
  for (const { specifier, options } of [...loader.imported.values()]) {
    let module: Record<string, unknown>;
    try {
      module = await loader.import(specifier, options);
    } catch {
      continue;
    }
    const add = (value: unknown, path: string[]) => {
      if (isReference(value) && !found.has(value)) {
        found.set(value, { specifier, path, ...(options && { options }) });
      }
    };
    const exports = dataProperties(module, MAX_PROPERTIES_PER_MODULE);
    for (const [name, value] of exports) add(value, [name]);
    let budget = MAX_PROPERTIES_PER_MODULE - exports.length;
    for (const [name, value] of exports) {
      if (budget <= 0) break;
      if (!isReference(value)) continue;
      const members = dataProperties(value, budget);
      budget -= members.length;
      for (const [member, inner] of members) add(inner, [name, member]);
    }
  }
  return found;
}

/**
 * Imports `ref`'s module and follows its path.
 *
 * @throws {TypeError} When the module no longer has such a value there (a class, with `class`).
 */
export async function resolveExport(
  loader: ModuleLoader,
  ref: ClassRef,
  want: "class" | "value",
): Promise<unknown> {
  let at: unknown = await loader.import(ref.specifier, ref.options);
  for (const key of ref.path) {
    const d = isReference(at) ? Object.getOwnPropertyDescriptor(at, key) : undefined;
    at = d?.value;
  }
  if (want === "class" ? !isClass(at) : !isReference(at)) {
    throw new TypeError(
      `${ref.specifier} no longer exports a ${want === "class" ? "class" : "value"} at ` +
        ref.path.join("."),
    );
  }
  return at;
}

/**
 * Whether a module's value is carried by reference rather than by its content: a function, or
 * an object that holds functions (a namespace such as arquero's `op` or lodash). Data (arrays,
 * records) is carried as it is, so changes the session made to it are kept.
 */
export function carriedByReference(value: unknown): boolean {
  if (typeof value === "function") return true;
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  return dataProperties(value, 1_000).some(([, v]) => typeof v === "function");
}

/** The label of a class reference in a snapshot; never a valid identifier (it has a space). */
export function classLabel(ref: ClassRef): string {
  return `${ref.specifier} ${ref.path.join(".")}`;
}

function isReference(value: unknown): value is object {
  return (typeof value === "object" && value !== null) || typeof value === "function";
}

function isClass(value: unknown): boolean {
  return typeof value === "function" && typeof value.prototype === "object" &&
    value.prototype !== null && !isNativeFunction(value);
}

/** Up to `limit` own enumerable data properties, without calling getters. */
function dataProperties(target: object, limit: number): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const key of Object.keys(target)) {
    if (out.length >= limit) break;
    try {
      const d = Object.getOwnPropertyDescriptor(target, key);
      if (d && "value" in d) out.push([key, d.value]);
    } catch {
      // A module export still in its temporal dead zone.
    }
  }
  return out;
}
