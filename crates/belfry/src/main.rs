use std::process::ExitCode;

use belfry::cli::{Cli, Command, TokenCommand};
use belfry::{app, config, settings, telemetry, token};
use clap::Parser;

fn main() -> ExitCode {
    // One crypto provider for every TLS user in the process (checks, outbound HTTP).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    if let Command::Validate { config } = &cli.command {
        return match config::load_file(config) {
            Ok(s) => {
                println!(
                    "{}: ok ({} components, {} monitors)",
                    config.display(),
                    s.catalog.components.len(),
                    s.catalog.monitors.len()
                );
                ExitCode::SUCCESS
            }
            Err(errors) => {
                eprintln!("{}", settings::render_errors(&errors));
                ExitCode::FAILURE
            }
        };
    }
    telemetry::init_logs();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => {
                let _ = telemetry::prometheus();
                app::serve(args).await
            }
            Command::Token { command: TokenCommand::Create { data, scope } } => {
                let store = app::open_data(&data).await?;
                let scope = belfry_core::auth::Scope::parse(&scope).expect("clap restricts the values");
                let secret = token::create(store.as_ref(), scope).await?;
                println!("{secret}");
                Ok(())
            }
            Command::Postmortem { incident, data, format } => {
                let (settings, storage) = app::load_data(&data).await?;
                let export = belfry_web::postmortem::postmortem_export(
                    storage.as_ref(),
                    storage.as_ref(),
                    &settings.catalog,
                    &incident,
                    jiff::Timestamp::now(),
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
                if format == "json" {
                    println!("{}", serde_json::to_string_pretty(&export.json)?);
                } else {
                    print!("{}", export.markdown);
                }
                Ok(())
            }
            Command::ExportStatic(args) => {
                let files = app::export_static(&args).await?;
                eprintln!("wrote {files} files to {}", args.out.display());
                Ok(())
            }
            Command::Validate { .. } => unreachable!("handled above"),
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
