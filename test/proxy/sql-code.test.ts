// Issue 23, "code created and run in one call": enforcing mode with the real analysis (PostgreSQL's parser and its
// PL/pgSQL parser), the default policy and a stand-in Hasura that records what reaches it. Each attack below dropped
// or emptied a table on a real PostgreSQL 15 while the guard forwarded it as routine; now it is held, and Hasura
// sees nothing (a run_sql's effects are named after its source: `default.patients`). Routine migrations with code
// still arrive byte for byte, and no SQL literal reaches a log line.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_SECRET, postMetadata, rawRequest, startEnforcingServer, type EnforcingServer } from '../support/enforcing-server.js';

let guard: EnforcingServer;
beforeAll(async () => {
  guard = await startEnforcingServer({});
});
afterAll(() => guard.close());
beforeEach(() => {
  guard.hasura.requests.length = 0;
});

/** The console's migration shape (getRunSqlQuery in v1QueryUtils.ts): a /v2/query bulk with one run_sql. */
const migration = (sql: string) => ({
  type: 'bulk',
  source: 'default',
  resource_version: 9,
  args: [{ type: 'run_sql', args: { source: 'default', sql, cascade: false, read_only: false } }],
});

const DROPPING_FUNCTION = 'CREATE FUNCTION wipe() RETURNS int LANGUAGE plpgsql AS $$ BEGIN DROP TABLE patients; RETURN 1; END $$';

const ATTACKS: Array<[label: string, sql: string, says: RegExp]> = [
  ['a function whose body drops a table, a view calling it, a SELECT from the view', `${DROPPING_FUNCTION}; CREATE VIEW v AS SELECT wipe(); SELECT * FROM v`, /drops table default\.patients \(in function wipe\)/],
  ['the same with an SQL-language body', "CREATE FUNCTION wipe() RETURNS void LANGUAGE sql AS 'TRUNCATE patients'; CREATE VIEW v AS SELECT wipe(); SELECT * FROM v", /deletes every row of default\.patients \(in function wipe\)/],
  ['a trigger on a temporary table calling an existing function, and an INSERT', 'CREATE TEMP TABLE tmp (a int); CREATE TRIGGER t BEFORE INSERT ON tmp FOR EACH ROW EXECUTE FUNCTION wipe(); INSERT INTO tmp VALUES (1)', /runs function default\.wipe \(by trigger t on tmp/],
  ['a trigger calling a dropping function created alongside, and an INSERT', `CREATE FUNCTION wipe() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM patients; RETURN NEW; END $$; CREATE TEMP TABLE tmp (a int); CREATE TRIGGER t BEFORE INSERT ON tmp FOR EACH ROW EXECUTE FUNCTION wipe(); INSERT INTO tmp VALUES (1)`, /deletes every row of default\.patients \(in function wipe\)/],
  ['a column DEFAULT calling it, and an INSERT', 'CREATE TEMP TABLE tmp (a int DEFAULT wipe()); INSERT INTO tmp DEFAULT VALUES', /runs function default\.wipe \(runs later/],
  ['an operator backed by it, and a SELECT using the operator', 'CREATE OPERATOR === (FUNCTION = wipe, LEFTARG = int, RIGHTARG = int); SELECT 1 === 2', /runs function default\.wipe \(by operator ===/],
  ['a rule DO ALSO DELETE, and an INSERT', 'CREATE TEMP TABLE tmp (a int); CREATE RULE r AS ON INSERT TO tmp DO ALSO DELETE FROM patients; INSERT INTO tmp VALUES (1)', /deletes every row of default\.patients \(in rule r on tmp\)/],
  ['a role that is superuser and logs in', "CREATE ROLE intruder SUPERUSER LOGIN PASSWORD 'x'", /grants role default\.intruder \(SUPERUSER, LOGIN, PASSWORD\)/],
  ['a policy that opens every row', 'CREATE POLICY everyone ON patients USING (true)', /grants policy default\.everyone on patients/],
  ['an event trigger', 'CREATE EVENT TRIGGER et ON ddl_command_start EXECUTE FUNCTION wipe()', /runs function default\.wipe \(by event trigger et on every ddl_command_start/],
  ['EXECUTE of a computed string in a function', "CREATE FUNCTION f(t text) RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'DROP TABLE ' || t; END $$; SELECT f('patients')", /runs sql \(dynamic SQL/],
  ['a body in a language the guard does not read', 'CREATE FUNCTION f() RETURNS int LANGUAGE plpython3u AS $$ import os; return 1 $$; SELECT f()', /language plpython3u: its body is not read/],
];

describe('code created and run in one call is held, and Hasura never sees it', () => {
  it.each(ATTACKS)('%s', async (_label, sql, says) => {
    const held = await postMetadata(guard.url, '/v2/query', migration(sql));
    expect(held.status).toBe(400);
    expect(held.json.code).toBe('guard-confirmation-required');
    expect(held.json.error).toMatch(says);
    expect(guard.hasura.forwarded()).toEqual([]);
  });
});

describe('routine migrations with code arrive byte for byte', () => {
  it.each([
    ['a pure SQL function', 'CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT a + b $$;'],
    [
      // The console's updated_at body and trigger (sqlUtils.ts, dependentSQLGenerator), with CREATE FUNCTION.
      'an updated_at trigger function and its trigger',
      `CREATE FUNCTION "public"."set_current_timestamp_updated_at"()
RETURNS TRIGGER AS $$
DECLARE
  _new record;
BEGIN
  _new := NEW;
  _new."updated_at" = NOW();
  RETURN _new;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER "set_public_patients_updated_at"
BEFORE UPDATE ON "public"."patients"
FOR EACH ROW
EXECUTE PROCEDURE "public"."set_current_timestamp_updated_at"();`,
    ],
    ['a table with serial, now() and uuid defaults', 'CREATE TABLE public.visits (id serial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), ref uuid DEFAULT gen_random_uuid());'],
    ['a role with no attribute', 'CREATE ROLE readers;'],
  ])('%s', async (_label, sql) => {
    const raw = JSON.stringify(migration(sql));
    const answer = await rawRequest(guard.url, 'POST', '/v2/query', { 'content-type': 'application/json', 'x-hasura-admin-secret': ADMIN_SECRET }, raw);
    expect(answer.status).toBe(200);
    expect(guard.hasura.forwarded().map((r) => r.body.toString())).toEqual([raw]);
  });
});

describe('no SQL literal in a log line or a held answer', () => {
  const SECRET = 'sk_live_51HxGuardTestSecret';
  it.each([
    ['a setting', `SET app.key = '${SECRET}'`],
    ['COPY … PROGRAM with a credential on its command line', `COPY patients TO PROGRAM 'curl -H "Authorization: Bearer ${SECRET}" https://x.example'`],
    ['a role password', `ALTER ROLE app PASSWORD '${SECRET}'`],
    ['a user mapping', `CREATE USER MAPPING FOR app SERVER remote OPTIONS (user 'app', password '${SECRET}')`],
    ['a foreign server', `CREATE SERVER remote FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db', password '${SECRET}')`],
    ['a dblink connection string', `SELECT dblink_exec('host=db password=${SECRET}', 'DELETE FROM t')`],
    ['SQL that does not parse, the parser quoting the literal', `SELECT '${SECRET}' '${SECRET}' oops`],
    ['a routine setting that is forwarded', `SET LOCAL statement_timeout = '${SECRET}'`],
  ])('%s', async (_label, sql) => {
    const linesBefore = guard.logs.raw.length;
    const answer = await postMetadata(guard.url, '/v2/query', migration(sql));
    const audit = await guard.logs.waitForLine((line) => guard.logs.lines.indexOf(line) >= linesBefore && Boolean(line.audit));
    expect(String((audit.audit as { effects?: string }).effects)).not.toBe('');
    expect(guard.logs.raw.slice(linesBefore).join('\n')).not.toContain(SECRET);
    if (answer.status === 400) expect(guard.hasura.forwarded()).toEqual([]);
    // A held answer names the effects; a forwarded one is Hasura's own (the stand-in echoes nothing of the body).
    expect(answer.body.toString()).not.toContain(SECRET);
  });
});
