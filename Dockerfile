# syntax=docker/dockerfile:1
# auditreplay image: `docker build -t auditreplay:0.1.0 .` (see deploy/README.md).
# Pinned to a full Node version so a rebuild gets the runtime the tests ran on; for
# reproducible builds pin the digest too (node:20.20.2-bookworm-slim@sha256:...).
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# Stage 1: compile the TypeScript. Only dist/ and bin/ leave this stage.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the `prepare` script builds, and the sources are not here yet (copying
# them first would reinstall every dependency on each source change). The only install
# script in the tree is esbuild's, used by tsx, which the build does not need.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
RUN npm run build

# Stage 2: the runtime: production dependencies and the compiled CLI, nothing else.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=dev: no compiler, test servers or browsers in the image. --ignore-scripts: without
# it `prepare` would run `tsc`, which is a dev dependency and is not installed here.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
# Root owns /app and nobody else may write there, so the image works with
# readOnlyRootFilesystem: the CLI writes only to TMPDIR (compare's spill files) and to
# its outputs, which in a cluster are object storage or a mounted volume.
ENV TMPDIR=/tmp
# Numeric, not `USER node`: with runAsNonRoot the kubelet can only check a numeric uid.
# 1000 is the `node` user of the official image.
USER 1000:1000
ENTRYPOINT ["node", "/app/bin/auditreplay.js"]
CMD ["--help"]
