//! The `tok` binary: parse arguments, run the command, map the error to an exit code.

fn main() {
    std::process::exit(tok::cli::main());
}
