# Multi-stage build: a static-enough release binary on a distroless, non-root base.
# (Images are not built in this repository's CI: no container engine runs on its machines.)
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
COPY tests ./tests
RUN cargo build --release --locked --bin xtsync

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/xtsync /usr/local/bin/xtsync
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/xtsync"]
CMD ["run"]
