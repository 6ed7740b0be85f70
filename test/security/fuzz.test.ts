// Property-based fuzzing of every front door: thousands of mangled bodies and variables. Whatever arrives, the
// server answers below 500, always with a JSON body, and is alive afterwards.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIRM, hasuraPayload, startTestServer, VALIDATE, type TestServer } from '../helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ LOG_LEVEL: 'silent' });
});
afterAll(() => server.close());

const RUNS = 1000;

async function send(path: string, body: string, contentType = 'application/json') {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });
  const text = await res.text();
  return { status: res.status, text };
}

function expectSound(r: { status: number; text: string }) {
  expect(r.status).toBeLessThan(500);
  expect(() => JSON.parse(r.text)).not.toThrow();
}

/** Anything JSON can carry, with a bias towards the strings and shapes the server looks for. */
const value = fc.letrec((tie) => ({
  any: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(null, true, false, 0, -1, 1e308, '', 'validateMetadataChange', 'confirmMetadataChange', 'production', 'DROP', '__proto__', 'constructor'),
    fc.string(),
    fc.string({ unit: 'grapheme' }),
    fc.integer(),
    fc.double(),
    fc.array(tie('any'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('input', 'action', 'name', 'session_variables', 'operation', 'table_name', 'environment', 'confirmation_token', '__proto__')), tie('any'), { maxKeys: 5 }),
  ),
})).any;

/** A real Hasura payload with one part replaced by anything. */
const mangledPayload = fc
  .tuple(
    fc.constantFrom('validateMetadataChange', 'confirmMetadataChange'),
    fc.constantFrom('action', 'input', 'session_variables', 'request_query', 'input.input', 'input.input.operation', 'input.input.table_name', 'input.input.environment', 'input.input.confirmation_token'),
    value,
  )
  .map(([action, path, replacement]) => {
    const payload: any = hasuraPayload(action, { operation: 'DROP', table_name: 't', environment: 'prod', confirmation_token: 'x' });
    const keys = path.split('.');
    let target = payload;
    for (const k of keys.slice(0, -1)) target = target[k];
    target[keys.at(-1)!] = replacement;
    return JSON.stringify(payload);
  });

describe.each(['/actions', '/validate-metadata-change', '/confirm-metadata-change'])('fuzzing %s', (path) => {
  it('mangled Hasura payloads', async () => {
    await fc.assert(fc.asyncProperty(mangledPayload, async (body) => expectSound(await send(path, body))), { numRuns: RUNS });
  });

  it('arbitrary JSON and arbitrary bytes', async () => {
    const body = fc.oneof(value.map((v) => JSON.stringify(v) ?? 'null'), fc.string(), fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')));
    await fc.assert(fc.asyncProperty(body, async (b) => expectSound(await send(path, b))), { numRuns: RUNS });
  });
});

describe('fuzzing /graphql', () => {
  it('arbitrary variables for validate and confirm', async () => {
    const body = fc.tuple(fc.constantFrom(VALIDATE, CONFIRM), value).map(([query, variables]) => JSON.stringify({ query, variables }));
    await fc.assert(fc.asyncProperty(body, async (b) => expectSound(await send('/graphql', b))), { numRuns: RUNS });
  });

  it('arbitrary inputs with the right shape reach the guard and get a business answer', async () => {
    const input = fc.record({ operation: fc.string({ unit: 'grapheme', maxLength: 120 }), table_name: fc.string({ unit: 'grapheme', maxLength: 140 }), environment: fc.string({ maxLength: 20 }) });
    await fc.assert(
      fc.asyncProperty(input, async (i) => {
        const r = await send('/graphql', JSON.stringify({ query: VALIDATE, variables: { input: i } }));
        expectSound(r);
        const out = JSON.parse(r.text).data.validateMetadataChange;
        expect(typeof out.success).toBe('boolean');
        expect(out.message.length).toBeGreaterThan(0);
      }),
      { numRuns: RUNS },
    );
  });

  it('arbitrary request bodies and documents', async () => {
    const body = fc.oneof(
      value.map((v) => JSON.stringify(v) ?? 'null'),
      fc.string().map((query) => JSON.stringify({ query })),
      fc.tuple(value, value, value).map(([query, variables, operationName]) => JSON.stringify({ query, variables, operationName })),
    );
    await fc.assert(fc.asyncProperty(body, async (b) => expectSound(await send('/graphql', b))), { numRuns: RUNS });
  });

  it('the server is alive and correct afterwards', async () => {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const r = await send('/graphql', JSON.stringify({ query: VALIDATE, variables: { input: { operation: 'DROP', table_name: 't', environment: 'staging' } } }));
    expect(JSON.parse(r.text).data.validateMetadataChange.success).toBe(true);
  });
});
