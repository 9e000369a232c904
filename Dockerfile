# heph's sync hub as a container: a static hephd in an empty (scratch)
# image. Build: docker build -t heph-hub .
# Run:   docker run -p 8417:8417 -v heph-hub:/data heph-hub \
#          --oidc-issuer https://id.example.org --oidc-audience urn:heph:hub \
#          --oidc-client-id heph-cli
# The hub listens on 0.0.0.0:8417 inside the container; put a TLS proxy in
# front of it, or mount a certificate and add --tls-cert/--tls-key.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/hephd . && mkdir -p /out/data

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/hephd /hephd
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
VOLUME /data
EXPOSE 8417
ENTRYPOINT ["/hephd", "--mode", "server", "--db", "/data/heph.db", "--socket", "/data/hephd.sock", "--http-addr", "0.0.0.0:8417"]
