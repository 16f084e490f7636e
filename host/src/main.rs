//! The `triage` binary: parse the command line, run, map the outcome to a documented exit
//! code (see `triage --help` and [`triage::exit`]).

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use triage::cli::{Cli, execute};

fn main() -> ExitCode {
    let cli = Cli::parse();
    install_error_renderer();
    match execute(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            let code = error.exit_code();
            eprintln!("{:?}", miette::Report::new(error));
            ExitCode::from(code)
        }
    }
}

/// Render errors the same way whatever the terminal: unicode frames, a fixed width, colour
/// only on a terminal without `NO_COLOR` (so that snapshots and logs are stable).
fn install_error_renderer() {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .unicode(true)
                .color(color)
                .terminal_links(false)
                .width(100)
                .build(),
        )
    }));
}
