// The webhook's quick checks must never accept what its zod schemas refuse, and must hand on the same data: a
// differential test over generated payloads, well-formed and broken. It also checks the quick checks do
// recognise what Hasura sends, or they would be dead weight.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { confirmInputSchema, payloadSchema, quickConfirmInput, quickPayload, quickValidateInput, validateInputSchema } from '../src/doors/webhook.js';
import { hasuraPayload } from './helpers.js';

const scalar = fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined));
const value = fc.oneof(scalar, fc.array(scalar, { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 3 }), scalar, { maxKeys: 3 }));
/** Mostly the well-formed `good`, sometimes any value: both sides of every check get exercised. */
const mostly = <T>(good: fc.Arbitrary<T>) => fc.oneof({ arbitrary: good, weight: 4 }, { arbitrary: value, weight: 1 });
const sessionKey = fc.constantFrom('x-hasura-role', 'x-hasura-user-id', 'X-Hasura-Role', 'other');
const fields = fc.record(
  { operation: mostly(fc.string()), table_name: mostly(fc.string()), environment: mostly(fc.string()), confirmation_token: mostly(fc.string()) },
  { requiredKeys: [] },
);
const payload = fc.record(
  {
    action: mostly(fc.record({ name: mostly(fc.string()) })),
    input: mostly(fc.oneof(fc.record({ input: mostly(fields) }), fields)),
    session_variables: mostly(fc.oneof(fc.constant(null), fc.dictionary(sessionKey, mostly(fc.string()), { maxKeys: 3 }))),
    request_query: mostly(fc.oneof(fc.constant(null), fc.string())),
    extra: value,
  },
  { requiredKeys: [] },
);
// What arrives is JSON: no undefined values, plain objects only.
const asJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v) ?? 'null');

describe('the webhook quick checks against their zod schemas', () => {
  it('accept only what zod accepts, with the same data', () => {
    let quick = 0;
    fc.assert(
      fc.property(payload.map(asJson), (json) => {
        const fast = quickPayload(json);
        const zod = payloadSchema.safeParse(json);
        if (fast !== undefined) {
          quick++;
          expect(zod.success).toBe(true);
          expect(fast).toEqual(zod.data);
        }
        if (!zod.success) return;
        const input = zod.data.input;
        for (const args of [input, input.input]) {
          if (typeof args !== 'object' || args === null || Array.isArray(args)) continue;
          const record = args as Record<string, unknown>;
          for (const [check, schema] of [[quickValidateInput, validateInputSchema], [quickConfirmInput, confirmInputSchema]] as const) {
            const fastInput = check(record);
            if (fastInput !== undefined) expect(schema.safeParse(record)).toEqual({ success: true, data: fastInput });
          }
        }
      }),
      { numRuns: 5000 },
    );
    // The generator must reach the quick path often enough for the property to mean something.
    expect(quick).toBeGreaterThan(500);
  });

  it("recognise Hasura's own payloads", () => {
    const validate = hasuraPayload('validateMetadataChange', { operation: 'DROP TABLE', table_name: 'public.patients', environment: 'production' });
    expect(quickPayload(asJson(validate))).toBeDefined();
    expect(quickValidateInput(validate.input.input)).toBeDefined();
    const confirm = hasuraPayload('confirmMetadataChange', { confirmation_token: 'ey...' }, {});
    expect(quickPayload(asJson({ ...confirm, request_query: null }))).toBeDefined();
    expect(quickConfirmInput(confirm.input.input)).toBeDefined();
  });
});
