//! `toolgate`: see `toolgate --help`. Exit codes: 0 success, 1 runtime failure, 2 bad
//! configuration or usage.

/// Request handling allocates many small, short-lived objects on every worker thread; glibc's
/// allocator spent ~20% of the load test in `malloc`/`free` and arena locks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    toolgate::cli::main()
}
