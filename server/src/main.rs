use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = shipback::cli::Cli::parse();
    shipback::cli::init_logging(cli.log_format);
    match cli.run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shipback: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
