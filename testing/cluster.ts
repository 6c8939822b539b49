/**
 * A cluster on loopback for tests, `deno task cluster` and the bench: a throwaway PostgreSQL,
 * N host processes on one registry database (each with its own data folder and a fixed port, so
 * a killed host comes back where nginx expects it), and nginx in front of them from the shipped
 * configuration.
 *
 * @module
 */
import type postgres from "postgres";
import { freePort } from "./free_port.ts";
import { type HostProcess, startHostProcess } from "./host_process.ts";
import { type Nginx, startNginx } from "./nginx.ts";
import { type PostgresServer, startPostgres } from "./postgres.ts";

/** How to start a cluster. */
/**
 * The hosts' flags for load and chaos rounds: saves every second or every 5 requests, so what a
 * fault loses stays small, and room for 8 live kernels.
 */
export const ROUND_HOST_ARGS: readonly string[] = [
  "--save-interval",
  "1",
  "--save-every",
  "5",
  "--max-kernels",
  "8",
];

export interface ClusterOptions {
  /** How many hosts (default 3). */
  hosts?: number;
  /** `--lease-ttl` in seconds (default 3: quick takeovers for tests). */
  leaseTtl?: number;
  /** More flags for every host. */
  hostArgs?: string[];
  /** nginx's port (default: a free one); no nginx when `false`. */
  nginxPort?: number | false;
}

/** One host of the cluster. */
export interface ClusterHost {
  port: number;
  /** Its MCP endpoint, reached directly. */
  url: string;
  dataDir: string;
  /** The running process; replaced by `restart`. */
  current: HostProcess;
  /** Its log (stderr) since it first started, across restarts. */
  log: string;
}

/** A running cluster; disposing it stops every process and removes their folders. */
export interface Cluster extends AsyncDisposable {
  /** The MCP endpoint through nginx (the first host's without nginx). */
  url: string;
  /** The registry's URL, as the hosts' `--registry`. */
  registryUrl: string;
  /** A connection to the registry's database, for inspection. */
  sql: postgres.Sql;
  hosts: ClusterHost[];
  nginx?: Nginx;
  /** `kill -9` of host `i`; resolves once it is gone. */
  kill(i: number): Promise<void>;
  /** Starts host `i` again (same port and data folder), after `kill`. */
  restart(i: number): Promise<void>;
  /** SIGSTOP / SIGCONT of host `i`. */
  pause(i: number): void;
  resume(i: number): void;
  /** Which host holds the live lease of each of `kernels` (by index; absent: none). */
  holders(kernels: string[]): Promise<Map<string, number>>;
}

/**
 * Starts PostgreSQL, then the hosts (in parallel), then nginx.
 *
 * @throws {Error} When PostgreSQL, a host or nginx cannot start, saying which and why.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const stack = new AsyncDisposableStack();
  try {
    const pg: PostgresServer = stack.use(await startPostgres());
    const registryUrl = await pg.createDatabase("cluster");
    const sql = stack.use(pg.admin("cluster"));
    const ttl = options.leaseTtl ?? 3;
    const hosts: ClusterHost[] = [];
    const spawn = async (host: ClusterHost) => {
      host.current = await startHostProcess([
        "--registry",
        registryUrl,
        "--data-dir",
        host.dataDir,
        "--lease-ttl",
        String(ttl),
        "--spare-kernels",
        "0",
        ...(options.hostArgs ?? []),
      ], { port: host.port, onLog: (text) => host.log += text });
    };
    stack.defer(async () => {
      for (const h of hosts) {
        try {
          h.current?.process.kill("SIGKILL");
        } catch { /* already gone */ }
        await h.current?.process.status;
        await Deno.remove(h.dataDir, { recursive: true }).catch(() => {});
      }
    });
    for (let i = 0; i < (options.hosts ?? 3); i++) {
      const port = freePort();
      hosts.push({
        port,
        url: `http://127.0.0.1:${port}/mcp`,
        dataDir: await Deno.makeTempDir({ prefix: `mkh-host${i}-` }),
        current: undefined as unknown as HostProcess,
        log: "",
      });
    }
    await Promise.all(hosts.map(spawn));
    const nginx = options.nginxPort === false ? undefined : stack.use(
      await startNginx(hosts.map((h) => `127.0.0.1:${h.port}`), options.nginxPort ?? freePort()),
    );
    const moved = stack.move();
    return {
      url: nginx?.url ?? hosts[0]!.url,
      registryUrl,
      sql,
      hosts,
      nginx,
      async kill(i) {
        hosts[i]!.current.process.kill("SIGKILL");
        await hosts[i]!.current.process.status;
      },
      async restart(i) {
        await spawn(hosts[i]!);
      },
      pause(i) {
        hosts[i]!.current.process.kill("SIGSTOP");
      },
      resume(i) {
        hosts[i]!.current.process.kill("SIGCONT");
      },
      async holders(kernels) {
        const rows = await sql<{ kernel_id: string; holder: string }[]>`
          SELECT kernel_id, holder FROM leases WHERE kernel_id = ANY(${kernels})
            AND expires_at > (extract(epoch FROM clock_timestamp()) * 1000)::bigint`;
        const found = new Map<string, number>();
        for (const row of rows) {
          const i = hosts.findIndex((h) => h.current.holder === row.holder);
          if (i >= 0) found.set(row.kernel_id, i);
        }
        return found;
      },
      [Symbol.asyncDispose]: () => moved.disposeAsync(),
    };
  } catch (error) {
    await stack.disposeAsync();
    throw error;
  }
}
