# esp-ota-server: multi-stage build for linux/amd64, linux/arm64 and linux/arm/v7 (Raspberry Pi).
#   docker build -t esp-ota-server .
#   docker run -d -p 8080:8080 -v esp-ota-data:/data esp-ota-server
# .ci/run checks what can be checked without a Docker engine: scripts/container-smoke.mjs repeats these build steps
# in a clean folder and runs this image's CMD with its ENV until /healthz answers.

FROM node:24-bookworm-slim AS build
WORKDIR /app
# The SQLite driver compiles from source where no prebuilt binary matches (e.g. armv7).
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    ESP_OTA_DATA=/data \
    ESP_OTA_HOST=0.0.0.0 \
    ESP_OTA_PORT=8080
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The server finishes downloads in flight and flushes queued events on SIGTERM.
STOPSIGNAL SIGTERM
CMD ["node", "bin/esp-ota.js", "serve"]
