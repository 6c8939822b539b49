/**
 * A throwaway PostgreSQL 15 server in a temporary folder, reached over its Unix socket only: for
 * the tests (see `tests/registry/_postgres.ts`) and for `deno task cluster` and the bench.
 *
 * @module
 */
import postgres from "postgres";

const BIN = "/usr/lib/postgresql/15/bin";
/** Only names the socket file: the server listens on no TCP address. */
const PORT = 5432;

/** A running server; disposing it stops the server and removes its folder. */
export interface PostgresServer extends AsyncDisposable {
  /** Creates an empty database and returns its URL (as `--registry` takes it). */
  createDatabase(name: string): Promise<string>;
  /** The URL of `database` on this server, as `--registry` takes it. */
  url(database: string): string;
  /** A superuser connection to `database`, closed when disposed. */
  admin(database: string): postgres.Sql & AsyncDisposable;
}

/**
 * Starts a server in a new temporary folder (`initdb`, then `pg_ctl start`; as root, both run as
 * the `postgres` user, since they refuse root). Disposing it stops the server and removes the
 * folder.
 *
 * @throws {Error} When the binaries are missing or the server does not start, saying why (with
 *   the server's log).
 */
export async function startPostgres(): Promise<PostgresServer> {
  try {
    await Deno.stat(`${BIN}/initdb`);
  } catch {
    throw new Error(
      `Cannot start PostgreSQL: no ${BIN}/initdb (install it: apt-get install -y postgresql)`,
    );
  }
  const dir = await Deno.makeTempDir({ prefix: "mkh-pg-" });
  // initdb and pg_ctl refuse to run as root: as root, they run as the postgres user.
  const asRoot = Deno.uid() === 0;
  if (asRoot) await run("chown", ["postgres", dir]);
  const pg = (tool: string, args: string[]) => {
    const path = `${BIN}/${tool}`;
    return asRoot ? run("runuser", ["-u", "postgres", "--", path, ...args]) : run(path, args);
  };
  const data = `${dir}/data`;
  try {
    await pg("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "-N", "-E", "UTF8"]);
    // A throwaway cluster needs no durability: fsync off makes CREATE DATABASE quick.
    const settings = `-k ${dir} -p ${PORT} -c listen_addresses='' -c fsync=off ` +
      "-c synchronous_commit=off -c full_page_writes=off";
    await pg("pg_ctl", ["-D", data, "-o", settings, "-l", `${dir}/log`, "-t", "60", "-w", "start"]);
  } catch (error) {
    const serverLog = await Deno.readTextFile(`${dir}/log`).catch(() => "");
    await Deno.remove(dir, { recursive: true });
    throw new Error(
      `Cannot start PostgreSQL: ${(error as Error).message}\n${serverLog}`.trim(),
      { cause: error },
    );
  }
  const url = (database: string) => `postgres://postgres@localhost:${PORT}/${database}?host=${dir}`;
  const admin = (database: string) => {
    const sql = postgres({ host: dir, port: PORT, user: "postgres", database, onnotice: () => {} });
    return Object.assign(sql, { [Symbol.asyncDispose]: () => sql.end() });
  };
  return {
    async createDatabase(name) {
      await using sql = admin("postgres");
      await sql.unsafe(`CREATE DATABASE "${name}"`);
      return url(name);
    },
    url,
    admin,
    async [Symbol.asyncDispose]() {
      await pg("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Runs a command to its end. @throws {Error} When it exits non-zero, with its output. */
async function run(command: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(command, { args, stdin: "null" }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr) || new TextDecoder().decode(out.stdout);
    throw new Error(`${command} ${args.join(" ")} exited with ${out.code}: ${text.trim()}`);
  }
}
