# The designate-operator image the Helm chart (charts/designate-operator)
# runs: one binary, one role per container (api, controllers, mdns).
#   docker build -t ghcr.io/<you>/designate-operator:0.1.0 .

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p designate-operator \
 && install -D target/release/designate-operator /out/designate-operator

FROM debian:bookworm-slim
# rndc drives BIND9 pool targets; CA certificates for Keystone and
# PowerDNS over HTTPS.
RUN apt-get update \
 && apt-get install -y --no-install-recommends bind9-utils ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/designate-operator /usr/local/bin/designate-operator
# Non-root (the chart's runAsUser); MiniDNS listens on 5354, not 53.
USER 65532:65532
EXPOSE 8080/tcp 9001/tcp 5354/udp 5354/tcp
ENTRYPOINT ["/usr/local/bin/designate-operator"]
