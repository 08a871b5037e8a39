# tthc's container image: built in one stage, run from a small one as a non-root user.
#   docker build -t tthc .
#   docker run -p 8080:8080 -v tthc-data:/var/lib/tthc tthc
# SQLite by default (the volume holds tthc.db); set TTHC_DATABASE_URL=postgres://… for PostgreSQL.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin tthc \
 && install -D -m 0755 target/release/tthc /out/tthc

FROM debian:bookworm-slim
# libpq for PostgreSQL; certificates for webhooks and the portal relay over HTTPS.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/tthc --create-home tthc
COPY --from=build /out/tthc /usr/local/bin/tthc
USER 10001
WORKDIR /var/lib/tthc
ENV TTHC_BIND=0.0.0.0:8080 \
    TTHC_DATABASE_URL=sqlite:///var/lib/tthc/tthc.db \
    TTHC_LOG_FORMAT=json \
    TTHC_ADMIN_SECRET_OUT=/var/lib/tthc/admin.secret
VOLUME ["/var/lib/tthc"]
EXPOSE 8080
# `tthc health` asks the running service's /readyz: no curl in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["tthc", "health"]
ENTRYPOINT ["tthc"]
CMD ["serve"]
