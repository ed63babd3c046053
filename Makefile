# xtsync: `make demo` shows it working, `make test` runs every test (README.md).
.PHONY: test demo crds deploy setup bench fuzz fuzz-smoke image install-plugin plugin-archive

setup:
	bash tests/env/setup.sh

test: setup
	cargo fmt --check
	cargo clippy --all-targets --locked -- -D warnings
	# Build the image first, so that its compile does not compete with the end-to-end tests'
	# deadlines; the image test runs what this built (and builds it itself when run alone).
	XTSYNC_IMAGE_PROFILE=image bash image/build.sh > "$${CARGO_TARGET_DIR:-target}/xtsync-image.built"
	XTSYNC_IMAGE_BUILT="$${CARGO_TARGET_DIR:-target}/xtsync-image.built" cargo test --locked

# The OCI image (release binary, FROM scratch) as $CARGO_TARGET_DIR/xtsync-image.tar (or
# target/xtsync-image.tar); load it into a registry with
# `skopeo copy oci-archive:target/xtsync-image.tar docker://REGISTRY/xtsync:VERSION`.
image:
	bash image/build.sh

demo:
	bash tests/env/demo.sh

# The kubectl plugin (README, "The kubectl plugin"): xtsync in $(PREFIX)/bin, and the symlink
# kubectl-xtsync beside it, which kubectl finds on PATH as `kubectl xtsync`.
PREFIX ?= /usr/local
install-plugin:
	cargo build --release --locked --bin xtsync
	install -D -m 0755 $${CARGO_TARGET_DIR:-target}/release/xtsync $(PREFIX)/bin/xtsync
	ln -sf xtsync $(PREFIX)/bin/kubectl-xtsync

# The plugin as Krew installs it: an archive and krew/xtsync.yaml filled in for it, in
# $CARGO_TARGET_DIR/krew (or target/krew); `kubectl krew install --manifest=… --archive=…`.
plugin-archive:
	cargo build --release --locked --bin xtsync
	bash krew/package.sh

# Regenerate crds/ (and the chart's copy) from the Rust types (tests fail when they differ).
crds:
	cargo run --quiet --bin xtsync -- crds --out-dir crds
	cargo run --quiet --bin xtsync -- crds --out-dir charts/xtsync/crds
	cargo run --quiet --bin xtsync -- crds --reference > docs/reference.md

bench: setup
	cargo bench --locked

# Regenerate deploy/xtsync.yaml (plain manifests for kubectl users) from the chart.
deploy: setup
	$$HOME/.cache/xtsync/venv/bin/python tests/chart/render_plain.py charts/xtsync > deploy/xtsync.yaml

# Fuzz every target (cargo fuzz, libFuzzer, nightly) for FUZZ_SECONDS each (default 10 min).
FUZZ_SECONDS ?= 600
fuzz:
	bash fuzz/run.sh $(FUZZ_SECONDS)

# CI: a short run of every fuzz target (its corpus kept under ~/.cache/xtsync/corpus).
fuzz-smoke:
	bash fuzz/run.sh 15
