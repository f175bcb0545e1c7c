# logship container image: build with dev dependencies, ship only runtime files.
FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --no-audit --no-fund --ignore-scripts && npx patch-package
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev --ignore-scripts

FROM node:24-slim
ENV NODE_ENV=production
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
# /healthz on metrics.listen (127.0.0.1:9598 unless configured otherwise).
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9598/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "--max-semi-space-size=4", "--expose-gc", "/opt/logship/bin/logship.js"]
CMD ["run", "--config", "/etc/logship/logship.yaml"]
