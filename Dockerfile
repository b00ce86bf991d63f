# syntax=docker/dockerfile:1
# The `integrations` image (docs/docker.md). It starts with no configuration at all:
#   docker build -t integrations .
#   docker run -d --name integrations -p 8080:8080 -v integrations-data:/data integrations
#   docker logs integrations        # the first API key, printed once
# State (SQLite database, generated master key) lives in the /data volume: back it up whole.
# Checked by tests/deploy.rs (keys against config/default.toml, ports, volume, user).

# ---- build: the release binary; dependencies stay compiled in BuildKit cache mounts --------
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The target folder is a cache mount (kept between builds, not part of the layer), so the
# binary is copied out of it in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p integrations-server --bin integrations \
 && install -D -m 0755 target/release/integrations /out/integrations

# ---- runtime: the binary, config/default.toml, CA roots, curl for the health check ---------
FROM debian:bookworm-slim
# Pinned package versions (bookworm is frozen at 12.15; security fixes come from
# bookworm-security). When a build says "Version ... was not found", read the current ones with
#   docker run --rm debian:bookworm-slim sh -c 'apt-get update -qq && apt-cache policy curl ca-certificates'
# and pass them as --build-arg (or update these defaults).
ARG CURL_VERSION=7.88.1-10+deb12u15
ARG CA_CERTIFICATES_VERSION=20250419~deb12u2
# The fixed non-root user 10001; /data is created owned by it before it becomes a VOLUME, so a
# new named volume starts with this owner (a bind-mounted host folder must be given uid 10001).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates="${CA_CERTIFICATES_VERSION}" \
      curl="${CURL_VERSION}" \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 integrations \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin integrations \
 && install -d -o 10001 -g 10001 -m 0700 /data
COPY --from=build /out/integrations /usr/local/bin/integrations
# The built-in defaults are compiled into the binary; this copy is what `--config-dir`
# (default ./config) reads, and where config/$INTEGRATIONS_ENV.toml files can be mounted.
COPY config/default.toml /app/config/default.toml
WORKDIR /app
# Defaults that make the image start on its own: listen on every interface of the container,
# keep the SQLite database and the generated master-key file in the /data volume. Override any
# of them (e.g. INTEGRATIONS__DATABASE__URL=postgres://…) with `-e`.
ENV INTEGRATIONS__SERVER__BIND=0.0.0.0:8080 \
    INTEGRATIONS__DATABASE__URL=sqlite:///data/integrations.db \
    INTEGRATIONS__VAULT__MASTER_KEY_FILE=/data/master.key
VOLUME ["/data"]
EXPOSE 8080
USER 10001:10001
# Ready = the database answers (GET /readyz). The port follows INTEGRATIONS__SERVER__BIND.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:${INTEGRATIONS__SERVER__BIND##*:}/readyz" || exit 1
# SIGTERM lets in-flight requests finish (server.shutdown_timeout_s, 30 s): give
# `docker stop --time 35` / compose stop_grace_period room for it.
ENTRYPOINT ["integrations"]
CMD ["serve"]
