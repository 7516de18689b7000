# pgbackman agent image: Node 22 slim, the PostgreSQL client tools of every supported major, a non-root user.
# Build:  docker build -t pgbackman .
# Run:    docker run -v pgbackman:/var/lib/pgbackman pgbackman --server backup01 --repo https://git.example.net/dba/backups.git

FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY schemas ./schemas
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:22-bookworm-slim
# pg_dump/pg_dumpall/pg_restore of every major pgbackman supports, from the PostgreSQL project's own repository
# (each under /usr/lib/postgresql/<major>/bin, owned by root: the agent runs only tools nobody else can write).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gnupg git openssh-client \
 && install -d /usr/share/postgresql-common/pgdg \
 && curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc https://www.postgresql.org/media/keys/ACCC4CF8.asc \
 && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" > /etc/apt/sources.list.d/pgdg.list \
 && apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client-13 postgresql-client-14 postgresql-client-15 postgresql-client-16 postgresql-client-17 postgresql-client-18 \
 && apt-get purge -y curl gnupg && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
RUN groupadd --system pgbackman && useradd --system --gid pgbackman --home-dir /var/lib/pgbackman pgbackman \
 && install -d -o pgbackman -g pgbackman -m 0700 /var/lib/pgbackman /srv/pgbackman \
 && install -d -o root -g pgbackman -m 0750 /etc/pgbackman/secrets
WORKDIR /opt/pgbackman
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/bin ./bin
COPY --from=build /src/dist ./dist
COPY --from=build /src/schemas ./schemas
COPY --from=build /src/src/catalogue/migrations ./src/catalogue/migrations
RUN ln -s /opt/pgbackman/bin/pgbackman.js /usr/local/bin/pgbackman
USER pgbackman
ENV PGBACKMAN_STATE_DIR=/var/lib/pgbackman NODE_ENV=production
VOLUME ["/var/lib/pgbackman", "/srv/pgbackman"]
EXPOSE 9187
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9187/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["pgbackman", "agent", "--listen", "0.0.0.0:9187"]
