import { openMemoryRegistry } from "../../src/registry/memory/memory_registry.ts";
import { registryContract } from "./registry_contract.ts";

registryContract("memory", () => {
  const registry = openMemoryRegistry();
  return Promise.resolve({ registry, [Symbol.asyncDispose]: () => registry.close() });
});
