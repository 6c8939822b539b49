/** Test helper: an npm cache of the test's own, as the host and its sandboxes would use it. */

/** A `DENO_DIR` of its own while `fn` runs, and `deno` run against it; removed afterwards. */
export async function withDenoDir(
  fn: (deno: (args: string[]) => Promise<Deno.CommandOutput>, denoDir: string) => Promise<void>,
): Promise<void> {
  const denoDir = await Deno.makeTempDir({ prefix: "mkh-deno-dir-" });
  const before = Deno.env.get("DENO_DIR");
  Deno.env.set("DENO_DIR", denoDir);
  const env = { DENO_DIR: denoDir, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" };
  const deno = (args: string[]) =>
    new Deno.Command(Deno.execPath(), { args, env, cwd: denoDir, stdin: "null" }).output();
  try {
    await fn(deno, denoDir);
  } finally {
    if (before === undefined) Deno.env.delete("DENO_DIR");
    else Deno.env.set("DENO_DIR", before);
    await Deno.remove(denoDir, { recursive: true });
  }
}
