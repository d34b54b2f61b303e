# syntax=docker/dockerfile:1
# Build: docker build -t attest .
# Run:   docker run --env-file attest.env -v attest-data:/data attest serve
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# modernc.org/sqlite is pure Go: the binary needs no C library.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/attest ./cmd/attest \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/attest /usr/local/bin/attest
COPY --from=build --chown=65532:65532 /out/data /data
COPY campaigns /etc/attest/campaigns
ENV ATTEST_DB=/data/attest.db
WORKDIR /data
USER 65532:65532
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/attest"]
CMD ["serve"]
