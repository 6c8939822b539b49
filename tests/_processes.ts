/** Test helper: child processes of a pid, read from /proc (Linux). */

/** Pids of the live (not zombie) processes whose parent is `pid`. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const stat = statOf(Number(entry.name));
    if (stat && stat.ppid === pid && stat.state !== "Z") out.push(Number(entry.name));
  }
  return out;
}

/** Pids of the kernel sandbox processes whose parent is `pid` (a host also runs other helpers). */
export function sandboxesOf(pid: number): number[] {
  return childrenOf(pid).filter((child) => commandLine(child).includes("sandbox.ts"));
}

/** The command line of `pid`, arguments joined by spaces; `""` once it is gone. */
export function commandLine(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ");
  } catch {
    return "";
  }
}

/** Whether `pid` is a running process (exited and zombie processes are not). */
export function isRunning(pid: number): boolean {
  const stat = statOf(pid);
  return stat !== undefined && stat.state !== "Z";
}

function statOf(pid: number): { state: string; ppid: number } | undefined {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name may contain spaces; fields resume after its closing parenthesis.
    const [state = "", ppid] = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

/** Polls `check` every 50 ms until it is true or `ms` have passed; returns its last value. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  ms: number,
): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return await check();
}
