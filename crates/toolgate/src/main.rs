//! `toolgate`: see `toolgate --help`. Exit codes: 0 success, 1 runtime failure, 2 bad
//! configuration or usage.

fn main() -> std::process::ExitCode {
    toolgate::cli::main()
}
