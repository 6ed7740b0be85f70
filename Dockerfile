# syntax=docker/dockerfile:1
# Production image: the compiled bundle on node, non-root, with a health check.
# Node 24, the current LTS (Node 20 is end-of-life). .ci/run runs the test suite on exactly this Node version,
# read from these FROM lines: keep both stages on the same tag. Size: almost all of it the node base
# (docs/deployment.md).

# 1. Install everything and compile: esbuild bundles src/ and the production dependencies it imports into
#    dist/ (type-checking is the test suite's job). Nothing from devDependencies is reachable from src/.
FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY src ./src
RUN npm run build

# 2. The image: the bundle and the data files it reads. No node_modules at all: no tsx, TypeScript, vitest or
#    browser driver, and nothing the bundle does not use.
FROM node:24.21.0-bookworm-slim
ENV NODE_ENV=production PORT=3000
# glibc's malloc keeps freed memory in each thread's arena up to a threshold it raises by itself whenever a large
# block is freed (start-up frees some): on Node 24 the process then held 25-45 MB more after load than it used.
# The thresholds fixed at glibc's own starting values hand it back: RSS after 30 s of load 132-151 MB (median 136)
# instead of 156-180 (median 171) (docs/performance.md, "Memory after load"). An environment variable costs no
# start-up time; a V8 flag would.
ENV GLIBC_TUNABLES=glibc.malloc.trim_threshold=131072:glibc.malloc.mmap_threshold=131072
WORKDIR /app
COPY --from=build /app/dist ./dist
COPY package.json schema.graphql ./
COPY policies ./policies
COPY hasura/metadata ./hasura/metadata
# `check` (docs/check.md) as a command of the image: docker run --rm -v "$PWD:/repo" <image> check --project /repo/hasura …
RUN printf '#!/bin/sh\nexec node /app/dist/cli/check.js "$@"\n' > /usr/local/bin/check && chmod 755 /usr/local/bin/check
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node runs as PID 1 and handles SIGTERM itself (graceful shutdown in src/index.ts). No V8 flags: any flag
# costs 20-50 ms of start-up, because node can no longer use its built-in start-up snapshot (docs/performance.md).
CMD ["node", "dist/index.js"]
