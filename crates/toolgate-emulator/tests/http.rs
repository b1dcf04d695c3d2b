//! Runs the e2e emulator tests (`tests/e2e/emulator.rs`) as this crate's own integration tests.

#[path = "../../../tests/e2e/emulator.rs"]
mod emulator;
