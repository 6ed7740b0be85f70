# syntax=docker/dockerfile:1
# Production image: compiled JavaScript on node, production dependencies only, non-root, with a health check.
# Expected size: about 250 MB (node:20-bookworm-slim is ~200 MB of it; see README, "Deployment").

# 1. Compile the TypeScript.
FROM node:20.20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# 2. Production dependencies only: no tsx, TypeScript, vitest or browser driver in the final image.
FROM node:20.20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# 3. The image.
FROM node:20.20-bookworm-slim
ENV NODE_ENV=production PORT=3000 HOST=0.0.0.0
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json schema.graphql ./
COPY policies ./policies
COPY hasura/metadata ./hasura/metadata
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node runs as PID 1 and handles SIGTERM itself (graceful shutdown in src/index.ts).
CMD ["node", "dist/index.js"]
