/**
 * Notices when the `npm exec` process (npx) that this server was started under ends.
 *
 * The README's `npx -y deno@2.9.6 task serve` does not pass SIGTERM on: `npm exec` and its shell
 * die, `deno task` is re-parented, and the server, still its child, would keep the port and never
 * save. Reading another process's `/proc` needs `--allow-all` in Deno, which `deno task serve`
 * does not grant, so a small POSIX shell finds the ancestor and waits for it to end (Linux; where
 * `/proc` or `sh` is missing, nothing is watched).
 *
 * @module
 */

/**
 * Exits 0 when the `npm exec`/`npx` process among the three nearest ancestors of process `$1`
 * (npx → sh → deno task → server) has ended while `$1` lives; 3 when there is none, 4 when `$1`
 * itself ended. Polls once a second. Farther ancestors are not the server's launcher: a server
 * that a test run under npx starts is not watched.
 */
const WATCH_SCRIPT = `
server=$1
field() {
  while read -r key value; do
    if [ "$key" = "$2:" ]; then printf '%s\\n' "$value"; return; fi
  done 2>/dev/null <"/proc/$1/status"
}
alive() {
  state=$(field "$1" State)
  [ -n "$state" ] && [ "\${state#Z}" = "$state" ]
}
p=$(field "$server" PPid)
launcher=
for _ in 1 2 3; do
  [ -n "$p" ] && [ "$p" -gt 1 ] || break
  case $(field "$p" Name) in "npm exec"* | npx*) launcher=$p; break ;; esac
  p=$(field "$p" PPid)
done
[ -n "$launcher" ] || exit 3
while alive "$launcher"; do
  alive "$server" || exit 4
  sleep 1
done
exit 0
`;

/** A running watch; `close()` ends it without calling back. */
export interface LauncherWatch {
  close(): void;
}

/**
 * Calls `onGone` once if the `npm exec` process this one runs under ends first. Never keeps the
 * process alive by itself.
 *
 * @returns The watch, or `undefined` where it cannot run (not Linux, or no `sh`).
 */
export function watchLauncher(onGone: () => void): LauncherWatch | undefined {
  if (Deno.build.os !== "linux") return undefined;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("sh", {
      args: ["-c", WATCH_SCRIPT, "launcher-watch", String(Deno.pid)],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch {
    return undefined;
  }
  child.unref();
  let closed = false;
  void child.status.then((status) => {
    if (!closed && status.code === 0) onGone();
  });
  return {
    close() {
      if (closed) return;
      closed = true;
      try {
        child.kill("SIGTERM");
      } catch {
        // Already exited.
      }
    },
  };
}
