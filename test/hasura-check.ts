// What Hasura checks in an action webhook's answer (shared/hasura/CONTRACT.md, section 2), as a test helper.
import { expect } from 'vitest';

const OUTPUT_TYPES = {
  validateMetadataChange: { success: 'Boolean!', message: 'String!', confirmation_token: 'String' },
  confirmMetadataChange: { success: 'Boolean!', message: 'String!' },
} as const;

export function expectHasuraAccepts(action: keyof typeof OUTPUT_TYPES, status: number, text: string) {
  let body: unknown;
  expect(() => (body = JSON.parse(text)), 'not a valid json response from webhook').not.toThrow();
  if (status >= 200 && status < 300) {
    expect(typeof body === 'object' && body !== null && !Array.isArray(body)).toBe(true);
    for (const [field, type] of Object.entries(OUTPUT_TYPES[action])) {
      const value = (body as Record<string, unknown>)[field];
      if (type.endsWith('!')) {
        expect(value, `field "${field}" expected in webhook response, but not found`).not.toBeUndefined();
        expect(value, `expecting not null value for field "${field}"`).not.toBeNull();
      }
      if (value != null) expect(typeof value).toBe(type.startsWith('Boolean') ? 'boolean' : 'string');
    }
  } else if (status >= 400 && status < 500) {
    // One object with a string message; a list or no message becomes Hasura's parse-failed error.
    expect(Array.isArray(body)).toBe(false);
    expect(typeof (body as { message?: unknown }).message).toBe('string');
  }
  return body as any;
}
