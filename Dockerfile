# syntax=docker/dockerfile:1
#
# The platform image: one image, three processes (docker-compose.yml picks one per service).
#   API (default)        node dist/api/main.js
#   worker               node dist/workers/main.js
#   ServiceNow simulator node dist/simulators/servicenow/main.js
#
# Build:  docker build -t deploy-platform .
# No secret is baked in: every credential arrives as an environment variable at run time, and in
# production (NODE_ENV=production) the processes refuse to start without them.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- toolchain: native modules (better-sqlite3) compile when no prebuilt binary is reachable ----
FROM ${NODE_IMAGE} AS toolchain
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*

# ---- deps: production dependencies only, compiled here so the runtime image needs no compiler ----
FROM toolchain AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# The worker's malloc_trim addon (`file:native/malloc-trim`): the root package's postinstall builds it here.
COPY native ./native
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- build: full dependencies, TypeScript -> dist/ ----
FROM toolchain AS build
WORKDIR /app
# Lockfile first: the dependency layer is reused until package*.json change.
COPY package.json package-lock.json ./
COPY native ./native
RUN npm ci --no-audit --no-fund
# The directories tsconfig.build.json compiles (its "include" list).
COPY tsconfig.json tsconfig.build.json ./
COPY shared ./shared
COPY workflows ./workflows
COPY activities ./activities
COPY workers ./workers
COPY api ./api
COPY simulators ./simulators
RUN npm run build

# ---- runtime: production dependencies only, non-root ----
FROM ${NODE_IMAGE} AS runtime
# git: the GitOps cluster target commits rendered manifests with the git CLI.
# tini: PID 1 that forwards SIGTERM and reaps the git processes the worker spawns.
RUN apt-get update \
  && apt-get install -y --no-install-recommends git tini ca-certificates \
  && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production
WORKDIR /app
# The worker bundles the workflow code with webpack (in a child process) the first time it starts
# with a given code and keeps the bundle in WORKFLOW_BUNDLE_CACHE_DIR, so production node_modules
# (which include @temporalio/worker's bundler) must be complete. npm ci runs no prestart/pretest
# hooks here, so scripts/setup.sh (dev tooling) is not needed in the image.
COPY package.json package-lock.json ./
COPY --from=deps /app/node_modules ./node_modules
# node_modules/@deploy-platform/malloc-trim links here, with the addon the deps stage built.
COPY --from=deps /app/native ./native
COPY --from=build /app/dist ./dist
# Environment policy (PLATFORM_ENVIRONMENTS_FILE defaults to config/environments.yaml under /app).
COPY config ./config
# Project templates (landing zones render a new project's repository from them).
COPY templates ./templates

# Data directory (GitOps repository, simulator state). Created here and owned by the runtime user
# so that a fresh named volume mounted on it inherits that ownership.
RUN mkdir -p /var/lib/platform && chown node:node /var/lib/platform
ENV PLATFORM_DATA_DIR=/var/lib/platform \
    WORKFLOW_BUNDLE_CACHE_DIR=/var/lib/platform/cache \
    API_HOST=0.0.0.0 \
    API_PORT=8080

# The node image's unprivileged user (uid 1000); nothing below runs as root.
USER node
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/api/main.js"]
