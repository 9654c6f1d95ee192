//! `wagate` — the one binary: `serve`, `migrate`, `orgs`, `keys`.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = wagate::cli::Cli::parse();
    match wagate::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("wagate: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
