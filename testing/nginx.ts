/**
 * nginx in front of hosts, run from the shipped `deploy/nginx/mcp-kernel-host.conf` with its
 * upstream's servers and its listen port filled in, in a temporary folder of its own (config,
 * pid, logs, temp files): no system-wide nginx setup is touched.
 *
 * @module
 */
import { ROOT } from "./host_process.ts";

/** The shipped site configuration. */
export const NGINX_SITE = `${ROOT}deploy/nginx/mcp-kernel-host.conf`;

/** A running nginx; disposing it stops it and removes its folder. */
export interface Nginx extends AsyncDisposable {
  /** The MCP endpoint through nginx. */
  url: string;
  /** nginx's error log so far (startup problems, upstreams marked failed). */
  errorLog(): Promise<string>;
}

/**
 * The shipped site with `upstreams` (`127.0.0.1:PORT` each) as its servers and `port` as its
 * listen port; everything else as shipped.
 */
export async function siteConfig(upstreams: string[], port: number): Promise<string> {
  const shipped = await Deno.readTextFile(NGINX_SITE);
  const servers = upstreams.map((u) => `    server ${u} max_fails=1 fail_timeout=5s;`).join("\n");
  const site = shipped
    .replace(/(upstream mcp_kernel_hosts \{[^}]*?)(?:\n {4}server [^\n]*)+/, `$1\n${servers}`)
    .replace(/listen 127\.0\.0\.1:\d+;/, `listen 127.0.0.1:${port};`);
  if (!site.includes(servers) || !site.includes(`listen 127.0.0.1:${port};`)) {
    throw new Error(`Cannot fill in ${NGINX_SITE}: its upstream or listen line changed shape`);
  }
  return site;
}

/**
 * Starts nginx (`nginx -p DIR -c DIR/nginx.conf`, in the foreground) on 127.0.0.1:`port` in
 * front of `upstreams`, and resolves once it accepts connections.
 *
 * @throws {Error} When nginx is not installed or does not start, with its error log.
 */
export async function startNginx(upstreams: string[], port: number): Promise<Nginx> {
  const binary = await findNginx();
  const dir = await Deno.makeTempDir({ prefix: "mkh-nginx-" });
  await Deno.writeTextFile(`${dir}/mcp-kernel-host.conf`, await siteConfig(upstreams, port));
  await Deno.writeTextFile(
    `${dir}/nginx.conf`,
    [
      "daemon off;",
      // As root, nginx's workers would become `nobody`, who cannot write this folder.
      ...(Deno.uid() === 0 ? ["user root;"] : []),
      "worker_processes 1;",
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log warn;`,
      "events { worker_connections 1024; }",
      "http {",
      "  access_log off;",
      ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) =>
        `  ${t}_temp_path ${dir}/${t};`
      ),
      `  include ${dir}/mcp-kernel-host.conf;`,
      "}",
      "",
    ].join("\n"),
  );
  const process = new Deno.Command(binary, {
    args: ["-p", dir, "-c", `${dir}/nginx.conf`, "-e", `${dir}/error.log`],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const errorLog = () => Deno.readTextFile(`${dir}/error.log`).catch(() => "");
  const stop = async () => {
    try {
      process.kill("SIGTERM");
    } catch { /* exited */ }
    await process.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  let exited = false;
  process.status.then(() => exited = true);
  for (let i = 0; i < 200; i++) {
    if (exited) break;
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return { url: `http://localhost:${port}/mcp`, errorLog, [Symbol.asyncDispose]: stop };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  const text = await errorLog();
  await stop();
  throw new Error(`Cannot start nginx on port ${port}: ${text.trim() || "it did not listen"}`);
}

async function findNginx(): Promise<string> {
  for (const dir of [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin", "/usr/local/sbin"]) {
    try {
      if ((await Deno.stat(`${dir}/nginx`)).isFile) return `${dir}/nginx`;
    } catch { /* not here */ }
  }
  throw new Error("Cannot start nginx: no nginx binary (install it: apt-get install -y nginx)");
}
