# toolgate tasks. `just --list` shows them.

# Run everything offline: emulator + gate on embedded defaults.
dev:
    cargo run -p toolgate -- dev

# Run every test, doing its own set-up (services, external clients).
test *ARGS:
    scripts/test.sh {{ARGS}}

# Every benchmark (release build), one table at the end; results go to docs/BENCHMARKS.md by hand.
bench:
    scripts/bench.sh

fmt:
    cargo fmt --all

lint:
    cargo clippy --workspace --all-targets -- -D warnings
