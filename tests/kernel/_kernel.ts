/** Test helper: a real kernel in a temporary folder, removed when disposed. */
import { join } from "node:path";
import { KernelHandle, type KernelOptions } from "../../src/kernel/kernel_handle.ts";

/** A started kernel plus its temporary data folder; use with `await using`. */
export interface TestKernel extends AsyncDisposable {
  kernel: KernelHandle;
  scratchDir: string;
}

/** Starts a kernel whose scratch folder lives in a new temporary folder. */
export async function startKernel(options: Partial<KernelOptions> = {}): Promise<TestKernel> {
  const root = await Deno.makeTempDir({ prefix: "mkh-test-" });
  const scratchDir = join(root, "files");
  const kernel = await KernelHandle.start({ scratchDir, memoryLimitMb: 256, ...options });
  return {
    kernel,
    scratchDir,
    async [Symbol.asyncDispose]() {
      await kernel.close();
      await Deno.remove(root, { recursive: true });
    },
  };
}
