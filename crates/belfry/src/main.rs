use std::process::ExitCode;

use belfry::cli::{Cli, Command, SecretsCommand, TokenCommand, UserCommand};
use belfry::{app, config, keys, settings, telemetry, token, users};
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
                let store = app::load_data(&data).await?.storage;
                let scope = belfry_core::auth::Scope::parse(&scope).expect("clap restricts the values");
                let secret = token::create(store.as_ref(), scope).await?;
                println!("{secret}");
                Ok(())
            }
            Command::Postmortem { incident, data, format } => {
                let app::Data { settings, storage, .. } = app::load_data(&data).await?;
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
            Command::User { command: UserCommand::Add { name, data, role, password_stdin } } => {
                let store = app::load_data(&data).await?.storage;
                let role = belfry_core::access::Role::parse(&role).expect("clap restricts the values");
                let password = if password_stdin {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    Some(line.trim_end_matches(['\r', '\n']).to_owned())
                } else {
                    None
                };
                let outcome = users::add(store.as_ref(), &name, role, password).await?;
                if let Some(generated) = outcome.generated_password {
                    println!("{generated}");
                }
                eprintln!(
                    "{} user {name} ({})",
                    if outcome.created { "added" } else { "updated" },
                    role.as_str()
                );
                Ok(())
            }
            Command::Secrets { command: SecretsCommand::Rotate { data } } => {
                let loaded = app::load_data(&data).await?;
                let (count, printed) = keys::rotate_secrets(loaded.storage.as_ref(), &loaded.key).await?;
                if let Some(new_key) = printed {
                    println!("{new_key}");
                    eprintln!(
                        "re-sealed {count} secrets; set {} to the key printed above before the next start",
                        keys::ENV
                    );
                } else {
                    eprintln!("re-sealed {count} secrets under a new key");
                }
                Ok(())
            }
            Command::Probe(args) => {
                let options = belfry::remote::ProbeOptions {
                    server: args.server,
                    token: args.token,
                    region: args.region,
                    poll: args.interval,
                    overrides: args.resolve.into_iter().collect(),
                    buffer: args.buffer,
                };
                belfry::remote::run(options, app::shutdown_signal()).await
            }
            Command::Export { data } => {
                let loaded = app::load_data(&data).await?;
                print!("{}", app::export_yaml(&data, &loaded).await?);
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
