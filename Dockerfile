# syntax=docker/dockerfile:1
# Build: docker build -t attest .
# Run:   docker run --env-file secrets.env --env-file attest.env -v attest-data:/data -p 8080:8080 attest
#        (README, Docker: which variables go in which file)
#
# Base images are pinned by digest, so rebuilding a commit gives the same
# bases. The digests were taken from public sources, not read from the
# registries (the machine that pinned them has no registry access):
#   golang:1.26 (Go 1.26.8) as of 2026-09-18, from a Renovate digest update
#     and a Dockerfile pinning the same full digest;
#   distroless static-debian12:nonroot as of 2026-08-26, from Dockerfiles
#     that pin it with that date. Distroless announced Debian 12 updates
#     until about September 2026: move to static-debian13 when you refresh.
# Check or refresh them with:
#   crane digest golang:1.26
#   crane digest gcr.io/distroless/static-debian12:nonroot
FROM golang:1.26@sha256:3c3e25a4da13fd0478eed2df1eb35a0e667094a7124d3993a6a1d30f71c17e79 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# modernc.org/sqlite is pure Go: the binary needs no C library.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/attest ./cmd/attest \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab
COPY --from=build /out/attest /usr/local/bin/attest
COPY --from=build --chown=65532:65532 /out/data /data
COPY campaigns /etc/attest/campaigns
# Every config key can be set as ATTEST_<KEY> (README, Configuration).
# Listen on every interface, so a published port and probes reach /healthz;
# read definitions where they were copied; keep the database on the volume.
ENV ATTEST_HTTP_LISTEN=0.0.0.0:8080
ENV ATTEST_CAMPAIGNS_DIR=/etc/attest/campaigns
ENV ATTEST_DB=/data/attest.db
WORKDIR /data
USER 65532:65532
VOLUME ["/data"]
EXPOSE 8080
# distroless has no curl: the binary checks itself (GET /healthz on
# ATTEST_HTTP_LISTEN, 3 s timeout, exit 0 on 200).
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["/usr/local/bin/attest", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/attest"]
CMD ["serve"]
