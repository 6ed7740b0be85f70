// npm run test:unit: the pure tests (the core, the analysis, the in-memory store, metrics, docs tables), in seconds.
// No global setup: nothing is built, no Chromium unpacked, no server, process or database started. `npm test`
// (vitest.config.ts) runs these too, with everything else.
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

const UNIT_TESTS = [
  'test/core/**/*.test.ts',
  'test/analysis/**/*.test.ts',
  'test/store/memory.test.ts',
  'test/store/lazy.test.ts',
  'test/metrics.test.ts',
  'test/docs.test.ts',
  'test/schema-descriptions.test.ts',
  'test/layout.test.ts',
];

export default defineConfig({
  resolve: base.resolve,
  test: { include: UNIT_TESTS, testTimeout: base.test?.testTimeout },
});
