FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin integrations

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/integrations /usr/local/bin/integrations
COPY config /app/config
WORKDIR /app
RUN mkdir /data && chown 65534 /data
USER 65534
ENTRYPOINT ["integrations"]
CMD ["serve"]
