# logship container image: built with dev dependencies, ships only runtime files.
# No engine runs in CI: test/install/image.test.ts builds this file's root
# filesystem by following its instructions (test/install/dockerfile.ts) and
# runs the agent and the HEALTHCHECK from it.
FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
COPY patches ./patches
COPY scripts/apply-patches ./scripts/
# npm ci applies patches/ (package.json's preprepare: scripts/apply-patches).
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:24-slim
ENV NODE_ENV=production
# metrics.listen where the configuration sets none: all of the container's
# addresses (its own network namespace), so port mappings and scrapers reach
# /metrics; loopback alone would be out of their reach.
ENV LOGSHIP_METRICS_LISTEN=0.0.0.0:9598
WORKDIR /opt/logship
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json config.example.yaml ./
COPY bin ./bin
COPY schema ./schema
# The image's unprivileged user; state (checkpoints) goes to a mounted volume.
RUN mkdir -p /var/lib/logship && chown node:node /var/lib/logship
USER node
VOLUME ["/var/lib/logship"]
EXPOSE 9598
# GET /healthz where the configuration (and LOGSHIP_METRICS_LISTEN) puts it.
# A CMD with another --config needs the same path here.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD ["node", "/opt/logship/bin/logship.js", "health", "--config", "/etc/logship/logship.yaml"]
ENTRYPOINT ["node", "--max-semi-space-size=4", "--expose-gc", "/opt/logship/bin/logship.js"]
CMD ["run", "--config", "/etc/logship/logship.yaml"]
