//! `healing-tui`: the terminal client, its scriptable commands, and the reference server.

fn main() -> std::process::ExitCode {
    healing_tui::cli::main()
}
