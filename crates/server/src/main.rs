//! `porchlight`: the command line of the reference server. All behaviour lives in the library.

/// mimalloc rather than glibc's malloc: at 10,000 chat streams glibc's allocator was a quarter
/// of the server's CPU (free-chunk consolidation among thousands of connection buffers), and
/// with mimalloc p99 delivery at 5,000 messages/s fell from ~100 ms to ~40 ms (README, live chat
/// benchmark). It costs ~100 MB more RSS at that load, well inside the 500 MB budget.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use porchlight_server::app::config::{ServeArgs, Settings};
use porchlight_server::Server;

/// Porchlight reference server: the /v1 API, the widget's files and a demo page.
///
/// Every option can also be set in the environment (PORCHLIGHT_*) or in the TOML config file;
/// flags beat the environment, which beats the file.
#[derive(Debug, Parser)]
#[command(name = "porchlight", version, arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log lines as `text` (default) or `json` (one object per line, for log shippers).
    #[arg(long, value_enum, default_value = "text", env = "PORCHLIGHT_LOG_FORMAT", global = true)]
    log_format: LogFormat,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server until SIGINT or SIGTERM. Prints "listening on URL", the demo page URL and
    /// the snippet to paste into a site.
    Serve,
    /// Manage operator accounts of the console (uses the same --db / --config).
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
    /// A person's data (GDPR Art. 15 and 17): export it as JSON, or erase it. Audited.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
    /// Webhook deliveries that kept failing past `dead_after_hours` (dead letters).
    Webhooks {
        #[command(subcommand)]
        command: WebhooksCommand,
    },
    /// A consistent copy of the database into FILE (a new file), while the server runs.
    Backup {
        /// Where to write the copy; must not exist.
        file: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum DataCommand {
    /// Writes everything held about the person on the site as JSON (standard output).
    Export(PersonFlags),
    /// Deletes everything held about the person on the site; prints rows removed per table.
    Erase(PersonFlags),
}

/// The person: exactly one of --email, --phone, --conversation.
#[derive(Debug, clap::Args)]
struct PersonFlags {
    /// The site's id.
    #[arg(long)]
    site: String,
    /// The e-mail address they gave for replies.
    #[arg(long)]
    email: Option<String>,
    /// The phone number of their callback requests, in any written form.
    #[arg(long)]
    phone: Option<String>,
    /// One conversation's id.
    #[arg(long)]
    conversation: Option<String>,
}

#[derive(Debug, Subcommand)]
enum WebhooksCommand {
    /// One line per dead delivery: id, site, event type, endpoint, attempts, last error.
    ListFailed,
    /// Delivers dead ones again from now on (ids, or --all).
    Retry(DeadFlags),
    /// Deletes dead ones (ids, or --all).
    Drop(DeadFlags),
}

#[derive(Debug, clap::Args)]
struct DeadFlags {
    #[arg(required_unless_present = "all")]
    ids: Vec<i64>,
    #[arg(long, conflicts_with = "ids")]
    all: bool,
}

#[derive(Debug, Subcommand)]
enum OperatorCommand {
    /// Create an operator. The password comes from PORCHLIGHT_OPERATOR_PASSWORD, else the first
    /// line of standard input (at least 10 characters); it is stored only as an argon2id hash.
    Add {
        /// Log-in e-mail (stored lower-cased, unique).
        #[arg(long)]
        email: String,
        /// Name shown in the console and to visitors on replies.
        #[arg(long)]
        name: String,
        /// The sites they work on, comma-separated (e.g. `shop,help`). Without it (or with
        /// --admin) every site.
        #[arg(long, value_delimiter = ',')]
        sites: Option<Vec<String>>,
        /// Administrator: every site.
        #[arg(long)]
        admin: bool,
    },
    /// List operators: id, e-mail, name, sites, capacity, and `admin` for administrators.
    List,
    /// Remove an operator: their sessions end, their open conversations become unassigned.
    Remove {
        #[arg(long)]
        email: String,
    },
    /// Set a new password (PORCHLIGHT_OPERATOR_PASSWORD, else the first line of standard input);
    /// every session of theirs ends.
    Passwd {
        #[arg(long)]
        email: String,
    },
    /// Set how many chats an operator carries at once (1-50; default 3): new conversations go to
    /// a colleague with room, and a site whose online operators are all full is "busy".
    Capacity {
        #[arg(long)]
        email: String,
        #[arg(long)]
        chats: u32,
    },
    /// Set the sites an operator works on (comma-separated), or every site with --all.
    Sites {
        #[arg(long)]
        email: String,
        #[arg(long, value_delimiter = ',', required_unless_present = "all")]
        sites: Option<Vec<String>>,
        #[arg(long)]
        all: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let logs = tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    match cli.command {
        Command::Serve => runtime.block_on(serve(&cli.serve)),
        Command::Operator { command: OperatorCommand::Add { email, name, sites, admin } } => {
            let sites = if admin { None } else { sites };
            runtime.block_on(add_operator(&cli.serve, &email, &name, sites, admin))
        }
        Command::Operator { command: OperatorCommand::List } => {
            print_lines(runtime.block_on(list_operators(&cli.serve)))
        }
        Command::Operator { command: OperatorCommand::Remove { email } } => {
            print_lines(runtime.block_on(remove_operator(&cli.serve, &email)))
        }
        Command::Operator { command: OperatorCommand::Passwd { email } } => {
            print_lines(runtime.block_on(set_password(&cli.serve, &email)))
        }
        Command::Operator { command: OperatorCommand::Capacity { email, chats } } => {
            print_lines(runtime.block_on(set_capacity(&cli.serve, &email, chats)))
        }
        Command::Operator { command: OperatorCommand::Sites { email, sites, all } } => {
            runtime.block_on(set_sites(&cli.serve, &email, if all { None } else { sites }))
        }
        Command::Data { command } => print_lines(runtime.block_on(data(&cli.serve, command))),
        Command::Webhooks { command } => print_lines(runtime.block_on(webhooks(&cli.serve, command))),
        Command::Backup { file } => print_lines(runtime.block_on(backup(&cli.serve, &file))),
    }
}

async fn data(args: &ServeArgs, command: DataCommand) -> Result<Vec<String>, String> {
    let settings = load(args)?;
    let (DataCommand::Export(flags) | DataCommand::Erase(flags)) = &command;
    let who = porchlight_server::app::admin::PersonArgs {
        site: flags.site.clone(),
        email: flags.email.clone(),
        phone: flags.phone.clone(),
        conversation: flags.conversation.clone(),
    };
    match command {
        DataCommand::Export(_) => {
            porchlight_server::app::admin::export_person(&settings, &who).await.map(|json| vec![json])
        }
        DataCommand::Erase(_) => porchlight_server::app::admin::erase_person(&settings, &who).await,
    }
}

async fn webhooks(args: &ServeArgs, command: WebhooksCommand) -> Result<Vec<String>, String> {
    let settings = load(args)?;
    let db = &settings.database;
    let revive = matches!(command, WebhooksCommand::Retry(_));
    match command {
        WebhooksCommand::ListFailed => porchlight_server::app::admin::dead_webhooks(db).await,
        WebhooksCommand::Retry(f) | WebhooksCommand::Drop(f) if f.all || !f.ids.is_empty() => {
            let ids = (!f.all).then_some(f.ids.as_slice());
            porchlight_server::app::admin::revive_or_drop_webhooks(db, ids, revive)
                .await
                .map(|n| vec![format!("{} {n}", if revive { "retrying" } else { "dropped" })])
        }
        WebhooksCommand::Retry(_) | WebhooksCommand::Drop(_) => Err("give ids or --all".into()),
    }
}

async fn backup(args: &ServeArgs, file: &std::path::Path) -> Result<Vec<String>, String> {
    let settings = load(args)?;
    porchlight_server::app::admin::backup(&settings.database, file).await?;
    Ok(vec![format!("backed up {} into {}", settings.database.display(), file.display())])
}

async fn remove_operator(args: &ServeArgs, email: &str) -> Result<Vec<String>, String> {
    porchlight_server::app::admin::remove_operator(&load(args)?.database, email).await?;
    Ok(vec![format!("operator {email} removed")])
}

async fn set_password(args: &ServeArgs, email: &str) -> Result<Vec<String>, String> {
    let settings = load(args)?;
    porchlight_server::app::admin::set_password(&settings.database, email, &read_password()?).await?;
    Ok(vec![format!("operator {email}: password changed, signed out everywhere")])
}

/// The settings, or why they cannot be read.
fn load(args: &ServeArgs) -> Result<Settings, String> {
    Settings::load(args).map_err(|e| e.to_string())
}

fn print_lines(result: Result<Vec<String>, String>) -> ExitCode {
    match result {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

async fn set_capacity(args: &ServeArgs, email: &str, chats: u32) -> Result<Vec<String>, String> {
    porchlight_server::app::admin::set_operator_capacity(&load(args)?.database, email, chats).await?;
    Ok(vec![format!("operator {email}: {chats} chats at once")])
}

async fn list_operators(args: &ServeArgs) -> Result<Vec<String>, String> {
    porchlight_server::app::admin::list_operators(&load(args)?.database).await
}

async fn set_sites(args: &ServeArgs, email: &str, sites: Option<Vec<String>>) -> ExitCode {
    let settings = match Settings::load(args) {
        Ok(settings) => settings,
        Err(e) => return fail(&e.to_string()),
    };
    if let Err(e) = check_sites(&settings, sites.as_deref()) {
        return fail(&e);
    }
    match porchlight_server::app::admin::set_operator_sites(&settings.database, email, sites.as_deref()).await {
        Ok(()) => {
            println!("operator {email}: {}", sites.map_or("every site".into(), |s| s.join(",")));
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// Site ids must be configured ones (a typo would give an operator an empty inbox).
fn check_sites(settings: &Settings, sites: Option<&[String]>) -> Result<(), String> {
    if settings.sites.is_empty() {
        return Ok(()); // the built-in demo site
    }
    for site in sites.unwrap_or_default() {
        if !settings.sites.iter().any(|s| s.id.as_str() == site) {
            return Err(format!("no site {site:?} in the configuration"));
        }
    }
    Ok(())
}

async fn add_operator(args: &ServeArgs, email: &str, name: &str, sites: Option<Vec<String>>, admin: bool) -> ExitCode {
    let settings = match Settings::load(args) {
        Ok(settings) => settings,
        Err(e) => return fail(&e.to_string()),
    };
    let password = match read_password() {
        Ok(password) => password,
        Err(e) => return fail(&e),
    };
    if let Err(e) = check_sites(&settings, sites.as_deref()) {
        return fail(&e);
    }
    match porchlight_server::app::admin::add_operator(
        &settings.database,
        email,
        name,
        &password,
        sites.as_deref(),
        admin,
    )
    .await
    {
        Ok(id) => {
            println!("operator {id} added");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

async fn serve(args: &ServeArgs) -> ExitCode {
    let settings = match Settings::load(args) {
        Ok(settings) => settings,
        Err(e) => return fail(&e.to_string()),
    };
    let server = match Server::bind(settings).await {
        Ok(server) => server,
        Err(e) => return fail(&e.to_string()),
    };
    // The handlers are installed before anyone learns the address: a SIGTERM sent as soon as the
    // banner is read (a script, systemd, a loaded CI machine) drains instead of killing.
    let signal = shutdown_signal();
    let mut stdout = std::io::stdout().lock();
    // Flushed at once: scripts wait for the `listening on` line through a pipe.
    let _ = stdout.write_all(server.banner().as_bytes()).and_then(|()| stdout.flush());
    drop(stdout);
    match server.run(signal).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("server error: {e}")),
    }
}

/// PORCHLIGHT_OPERATOR_PASSWORD, else the first line of standard input.
fn read_password() -> Result<String, String> {
    if let Ok(password) = std::env::var("PORCHLIGHT_OPERATOR_PASSWORD") {
        return Ok(password);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn fail(message: &str) -> ExitCode {
    eprintln!("porchlight: {message}");
    ExitCode::FAILURE
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM (what `docker stop` and systemd send). Both handlers
/// are registered when this is called, not when the future is first polled.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (mut interrupt, mut terminate) = {
        use tokio::signal::unix::{signal, SignalKind};
        (signal(SignalKind::interrupt()).ok(), signal(SignalKind::terminate()).ok())
    };
    async move {
        #[cfg(unix)]
        {
            let interrupted = async {
                match interrupt.as_mut() {
                    Some(s) => drop(s.recv().await),
                    None => std::future::pending::<()>().await,
                }
            };
            let terminated = async {
                match terminate.as_mut() {
                    Some(s) => drop(s.recv().await),
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = interrupted => {},
                () = terminated => {},
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
