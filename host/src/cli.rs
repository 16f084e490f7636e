//! The command line: `run`, `validate`, `list`, `explain`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::catalogue;
use crate::exit;
use crate::kafka::{KafkaConnection, KafkaSettings, SettingsError};

/// The playbook input that doubles as the run's Kafka bootstrap.
const BOOTSTRAP_INPUT: &str = "bootstrap";
use crate::playbook::plan::{InputError, bind_inputs, parse_set, plan};
use crate::playbook::template::expand;
use crate::playbook::validate::validate;
use crate::playbook::{Playbook, PlaybookError, parse};
use crate::plugins::{self, LoadedPlugins, Origin};
use crate::report::Format;
use crate::report::model::Status;
use crate::report::progress::Progress;
use crate::runner::{self, Confirm, RemediationPolicy, RunMeta};
use crate::runtime::{EngineError, Layout, Runtime, plugin_text};

/// Diagnose broken Kafka pipelines: run a playbook of sandboxed checks, get a ranked diagnosis.
///
/// Exit codes: 0 nothing failed · 1 a check failed or errored · 2 invalid playbook or
/// arguments (nothing was run) · 3 the engine itself failed.
#[derive(Debug, Parser)]
#[command(name = "triage", version, about, long_about = None)]
#[command(after_help = "Examples:\n  \
    triage run kafka-producer-drops --bootstrap kafka-1:9092 --set topic=orders \\\n      \
    --set producer_config=producer.properties --set canary=orders\n  \
    triage run kafka-cluster --bootstrap kafka-1:9092 --kafka-config client.properties\n  \
    triage run ./my-playbook.ron --set topic=orders --format json\n  \
    triage explain kafka-producer-drops\n  \
    triage list\n\n\
    Exit codes: 0 nothing failed · 1 a check failed or errored · 2 invalid playbook or \
    arguments (nothing was run) · 3 the engine itself failed")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a playbook (a path, or the name of a shipped playbook) and print the diagnosis.
    Run(RunArgs),
    /// Check playbooks, or signature files (a RON list of signatures), without running them;
    /// reports every problem with file:line:column.
    Validate {
        /// Playbook or signature files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// List shipped playbooks and every available plugin.
    List {
        /// List the log signature catalogue instead (id, cause, severity, components).
        #[arg(long)]
        signatures: bool,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Show what a playbook would do: each step's plugin, params and effective grants.
    Explain {
        /// A playbook path or shipped playbook name.
        playbook: String,
        /// Fill an input (NAME=VALUE) to see grants as they would be; repeatable.
        #[arg(long = "set", value_name = "NAME=VALUE")]
        sets: Vec<String>,
        #[command(flatten)]
        engine: EngineArgs,
    },
}

#[derive(Debug, Args)]
struct RunArgs {
    /// A playbook path, or the name of a shipped playbook (see `triage list`).
    playbook: String,
    /// Fill an input (NAME=VALUE); repeatable.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    sets: Vec<String>,
    /// Report format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Show plugin log lines: -v info, -vv debug.
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Carry out remediation steps (each asks for confirmation on a terminal). Without it,
    /// remediations are dry runs that report exactly what they would do.
    #[arg(long)]
    apply: bool,
    /// With --apply: do not ask for confirmation (needed when stdin is not a terminal).
    #[arg(long, requires = "apply")]
    yes: bool,
    #[command(flatten)]
    kafka: KafkaArgs,
    #[command(flatten)]
    engine: EngineArgs,
}

/// How the host connects to Kafka. Plugins never see any of this.
#[derive(Debug, Args)]
struct KafkaArgs {
    /// Kafka bootstrap servers (HOST:PORT,...); also fills the playbook's `bootstrap` input
    /// when it has one and no --set gives it.
    #[arg(long, value_name = "HOST:PORT,...", env = "TRIAGE_BOOTSTRAP")]
    bootstrap: Option<String>,
    /// The client's Java-style properties (security.protocol, sasl.*, ssl.*, bootstrap.servers).
    #[arg(long, value_name = "FILE")]
    kafka_config: Option<PathBuf>,
    /// Upper bound on each Kafka request; a dead cluster is reported after this.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = humantime::parse_duration)]
    kafka_timeout: std::time::Duration,
}

/// Where plugins and compiled artifacts live.
#[derive(Debug, Args, Clone)]
struct EngineArgs {
    /// Also look for plugins (NAME.wasm) in DIR; these take precedence over shipped ones.
    #[arg(long = "plugin-dir", value_name = "DIR", global = true)]
    plugin_dirs: Vec<PathBuf>,
    /// Where compiled plugins are cached [default: the user cache dir, triage/].
    #[arg(long, value_name = "DIR", env = "TRIAGE_CACHE_DIR", global = true)]
    cache_dir: Option<PathBuf>,
    /// Compile plugins on every start instead of caching them.
    #[arg(long, global = true)]
    no_cache: bool,
}

/// Why a command could not do its job (as opposed to a check that failed).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum CliError {
    /// The playbook is invalid.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Playbook(#[from] PlaybookError),
    /// `--set` values are wrong.
    #[error(transparent)]
    Input(#[from] InputError),
    /// No such playbook.
    #[error("no playbook `{name}`: it is not a file, nor a shipped playbook ({known})")]
    PlaybookNotFound {
        /// What was asked for.
        name: String,
        /// Shipped playbook names.
        known: String,
    },
    /// A playbook file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The Kafka client settings are unusable.
    #[error(transparent)]
    KafkaSettings(#[from] SettingsError),
    /// The runtime could not start.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The report could not be written.
    #[error("cannot write the report: {0}")]
    Output(std::io::Error),
}

impl CliError {
    /// The documented exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Playbook(_)
            | CliError::Input(_)
            | CliError::PlaybookNotFound { .. }
            | CliError::KafkaSettings(_)
            | CliError::Read { .. } => exit::INVALID_INPUT,
            CliError::Engine(_) | CliError::Output(_) => exit::ENGINE_FAILED,
        }
    }
}

/// How long the end of a command waits for host work still in flight before the process
/// exits anyway. Only work abandoned at a deadline can still be running then: a name lookup
/// against a silent resolver, an open of a FIFO, a scan past its budget. None of it can be
/// cancelled (it is a blocking system call) and none of it matters once the report is written.
/// The grace only lets the runtime drop its remaining tasks, whose destructors clean up
/// (child processes are killed on drop).
const SHUTDOWN_GRACE: Duration = Duration::from_millis(250);

/// Run the parsed command line; returns the exit code.
pub fn execute(cli: Cli) -> Result<u8, CliError> {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| EngineError::from_io(&e))?;
    let outcome = tokio.block_on(async move {
        match cli.command {
            Command::Run(args) => run(args).await,
            Command::Validate { files, engine } => validate_files(&files, &engine).await,
            Command::List {
                signatures: true, ..
            } => list_signatures(),
            Command::List { engine, .. } => list(&engine).await,
            Command::Explain {
                playbook,
                sets,
                engine,
            } => explain(&playbook, &sets, &engine).await,
        }
    });
    // The process always exits when the command ends (issue 7). Dropping the runtime would
    // wait for every blocking task to return, and a `getaddrinfo` or a FIFO open abandoned at
    // its step's deadline may never return: the report was printed, the process lived on.
    tokio.shutdown_timeout(SHUTDOWN_GRACE);
    outcome
}

fn start_runtime(engine: &EngineArgs) -> Result<Runtime, EngineError> {
    let cache_dir = if engine.no_cache {
        None
    } else {
        engine
            .cache_dir
            .clone()
            .or_else(|| dirs::cache_dir().map(|d| d.join("triage")))
    };
    Runtime::new(cache_dir)
}

/// What the runtime had to say while loading plugins (a refused or tampered compile cache).
fn print_runtime_warnings(runtime: &Runtime) {
    for warning in runtime.take_warnings() {
        eprintln!("triage: warning: {warning}");
    }
}

/// A playbook read, parsed, its plugins loaded, and validated.
struct Prepared {
    name: String,
    source: String,
    playbook: Playbook,
    plugins: LoadedPlugins,
}

async fn prepare(
    reference: &str,
    runtime: &Runtime,
    engine: &EngineArgs,
) -> Result<Prepared, CliError> {
    let (name, source, dir) = read_playbook(reference)?;
    let playbook = parse(&name, &source)?;
    let references = playbook.steps.iter().map(|s| s.plugin.value.as_str());
    let plugins = LoadedPlugins::load(runtime, references, &dir, &engine.plugin_dirs).await;
    print_runtime_warnings(runtime);
    validate(&name, &source, &playbook, &plugins)?;
    Ok(Prepared {
        name,
        source,
        playbook,
        plugins,
    })
}

/// A path, or a shipped playbook's name. Returns (display name, source, directory that
/// relative plugin paths are resolved against).
fn read_playbook(reference: &str) -> Result<(String, String, PathBuf), CliError> {
    let path = Path::new(reference);
    if path.exists() {
        let source = std::fs::read_to_string(path).map_err(|source| CliError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        return Ok((reference.to_owned(), source, dir));
    }
    let shipped = plugins::shipped_playbooks();
    match shipped.iter().find(|(name, _)| *name == reference) {
        Some((name, source)) => Ok((
            format!("{name}.ron"),
            (*source).to_owned(),
            PathBuf::from("."),
        )),
        None => Err(CliError::PlaybookNotFound {
            name: reference.to_owned(),
            known: shipped
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

fn parse_sets(sets: &[String]) -> Result<Vec<(String, String)>, CliError> {
    Ok(sets
        .iter()
        .map(|s| parse_set(s))
        .collect::<Result<_, _>>()?)
}

async fn run(args: RunArgs) -> Result<u8, CliError> {
    let mut sets = parse_sets(&args.sets)?;
    let mut settings = KafkaSettings::load(
        args.kafka.bootstrap.as_deref(),
        args.kafka.kafka_config.as_deref(),
        args.kafka.kafka_timeout,
    )?;
    if !settings.ignored.is_empty() {
        eprintln!(
            "triage: ignoring Kafka client properties that do not affect the connection: {}",
            settings.ignored.join(", ")
        );
    }
    let runtime = Arc::new(start_runtime(&args.engine)?);
    let prepared = prepare(&args.playbook, &runtime, &args.engine).await?;
    // One bootstrap for everything: --bootstrap (or the config file) fills the playbook's
    // `bootstrap` input, and a `--set bootstrap=` is the connection when nothing else is.
    let has_bootstrap_input = prepared.playbook.inputs.contains_key(BOOTSTRAP_INPUT);
    if has_bootstrap_input
        && !settings.bootstrap.is_empty()
        && !sets.iter().any(|(name, _)| name == BOOTSTRAP_INPUT)
    {
        sets.push((BOOTSTRAP_INPUT.to_owned(), settings.bootstrap.clone()));
    }
    let values = bind_inputs(&prepared.playbook, &sets)?;
    if settings.bootstrap.is_empty()
        && let Some(bootstrap) = values.get(BOOTSTRAP_INPUT)
    {
        settings.bootstrap = bootstrap.clone();
    }
    let mut steps = plan(
        &prepared.name,
        &prepared.source,
        &prepared.playbook,
        &values,
    )?;
    // The --kafka-config file's credentials stay in the host: no file grant exposes it, by
    // any path, symlink or hard link (it is recognised by device and inode).
    if let Some(config) = args.kafka.kafka_config.as_deref()
        && let Ok(withheld) =
            crate::caps::Withheld::new(config, "the Kafka client config given with --kafka-config")
    {
        for step in &mut steps {
            step.grant.withheld.push(withheld.clone());
        }
    }
    let progress = Arc::new(Progress::new(args.verbose));
    let kafka = Arc::new(KafkaConnection::new(settings));
    let meta = RunMeta {
        playbook: prepared.playbook.name.clone(),
        title: prepared.playbook.title.clone(),
        explains: prepared.playbook.explains.clone(),
        kafka: Some(kafka.clone()),
        remediation: RemediationPolicy {
            apply: args.apply,
            confirm: Arc::new(TerminalConfirm {
                yes: args.yes,
                progress: progress.clone(),
            }),
        },
        inputs: prepared
            .playbook
            .inputs
            .iter()
            .map(|(name, input)| (name.clone(), input.help.clone()))
            .collect(),
    };
    let report = runner::run(runtime, &prepared.plugins, meta, steps, progress).await;
    let mut stdout = anstream::stdout().lock();
    match args.format {
        Format::Human => crate::report::human::write(&report, &mut stdout),
        Format::Json => crate::report::json::write(&report, &mut stdout),
    }
    .and_then(|()| stdout.flush())
    .map_err(CliError::Output)?;
    // The process ends here: skip librdkafka's destructor, which waits for its broker
    // threads (seconds when brokers are down) for no one's benefit.
    std::mem::forget(kafka);
    Ok(match report.status {
        Status::Fail | Status::Error => exit::CHECK_FAILED,
        Status::Pass | Status::Warn | Status::Skipped => exit::OK,
    })
}

/// Confirms remediations on the terminal: `--yes` confirms everything; without a terminal
/// to ask on, nothing is confirmed.
struct TerminalConfirm {
    yes: bool,
    progress: Arc<Progress>,
}

impl Confirm for TerminalConfirm {
    fn confirm(&self, step: &str, title: &str, actions: &[String]) -> Result<(), String> {
        use std::io::{BufRead, IsTerminal};
        if self.yes {
            return Ok(());
        }
        if !std::io::stdin().is_terminal() {
            return Err("--apply without --yes needs a terminal to confirm on".into());
        }
        let question = format!(
            "Remediation `{step}` ({title}) will:\n{}\nProceed? [y/N] ",
            actions
                .iter()
                .map(|a| format!("  - {a}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        let answer = self.progress.suspend(|| {
            eprint!("{question}");
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).map(|_| line)
        });
        match answer {
            Ok(line) if matches!(line.trim(), "y" | "Y" | "yes") => Ok(()),
            _ => Err("declined".into()),
        }
    }
}

async fn validate_files(files: &[PathBuf], engine: &EngineArgs) -> Result<u8, CliError> {
    let runtime = start_runtime(engine)?;
    let mut invalid = 0;
    for file in files {
        // A signature file is told from a playbook by its first value (a list); read errors
        // fall through to the playbook path, which reports them.
        if let Ok(text) = std::fs::read_to_string(file)
            && catalogue::is_signature_file(&text)
        {
            match catalogue::validate(&file.display().to_string(), &text) {
                Ok(checked) => println!(
                    "ok: {} ({} signatures)",
                    file.display(),
                    checked.signatures.len()
                ),
                Err(problems) => {
                    invalid += 1;
                    for problem in problems {
                        eprintln!("error: {problem}");
                    }
                }
            }
            continue;
        }
        match prepare(&file.display().to_string(), &runtime, engine).await {
            Ok(prepared) => println!(
                "ok: {} ({} steps)",
                prepared.name,
                prepared.playbook.steps.len()
            ),
            Err(error) if error.exit_code() == exit::INVALID_INPUT => {
                invalid += 1;
                eprintln!("{:?}", miette::Report::new(error));
            }
            Err(error) => return Err(error),
        }
    }
    Ok(if invalid == 0 {
        exit::OK
    } else {
        exit::INVALID_INPUT
    })
}

fn list_signatures() -> Result<u8, CliError> {
    catalogue::list(&mut anstream::stdout().lock()).map_err(CliError::Output)?;
    Ok(exit::OK)
}

async fn list(engine: &EngineArgs) -> Result<u8, CliError> {
    let runtime = start_runtime(engine)?;
    let mut out = anstream::stdout().lock();
    let bold = anstyle::Style::new().bold();
    let write =
        |out: &mut dyn Write, line: String| writeln!(out, "{line}").map_err(CliError::Output);
    write(
        &mut out,
        format!("{bold}Playbooks{bold:#} (triage run NAME)"),
    )?;
    for (name, source) in plugins::shipped_playbooks() {
        let title = parse(name, source)
            .map(|p| p.title)
            .unwrap_or_else(|e| format!("(invalid: {e})"));
        write(&mut out, format!("  {name:<24} {title}"))?;
    }
    write(&mut out, String::new())?;
    write(&mut out, format!("{bold}Plugins{bold:#}"))?;
    // A plugin directory's file names are chosen by whoever put the plugins there: shown as
    // plugin text, like everything the plugin itself says (neutralised when it was loaded).
    let shown = |text: &str| plugin_text(text, 256, Layout::Line);
    for name in plugins::known_names(&engine.plugin_dirs) {
        let origin = plugins::resolve(&name, Path::new("."), &engine.plugin_dirs);
        let name = shown(&name);
        let line = match origin {
            Some(origin) => match plugins::load_origin(&runtime, &origin).await {
                Ok(plugin) => {
                    let from = match origin {
                        Origin::Shipped(_) => String::new(),
                        Origin::File(path) => format!(" [{}]", shown(&path.display().to_string())),
                    };
                    format!(
                        "  {name:<24} {} (v{}){from}",
                        plugin.info.description, plugin.info.version
                    )
                }
                Err(why) => format!("  {name:<24} (cannot be loaded: {why})"),
            },
            None => continue,
        };
        write(&mut out, line)?;
    }
    print_runtime_warnings(&runtime);
    Ok(exit::OK)
}

async fn explain(reference: &str, sets: &[String], engine: &EngineArgs) -> Result<u8, CliError> {
    let sets = parse_sets(sets)?;
    let runtime = start_runtime(engine)?;
    let prepared = prepare(reference, &runtime, engine).await?;
    let playbook = &prepared.playbook;
    // Unset inputs stay as `{{name}}` so that the explanation works before they are known.
    let mut values = std::collections::BTreeMap::new();
    for (name, input) in &playbook.inputs {
        if let Some(default) = &input.default {
            values.insert(name.clone(), default.clone());
        }
    }
    for (name, value) in &sets {
        values.insert(name.clone(), value.clone());
    }
    let shown = |text: &str| {
        let mut filled = values.clone();
        for placeholder in crate::playbook::template::placeholders(text) {
            filled
                .entry(placeholder.name.to_owned())
                .or_insert_with(|| format!("{{{{{}}}}}", placeholder.name));
        }
        expand(text, &filled).unwrap_or_else(|_| text.to_owned())
    };

    let mut out = anstream::stdout().lock();
    let bold = anstyle::Style::new().bold();
    let dim = anstyle::Style::new().dimmed();
    let mut lines = vec![format!(
        "{bold}{}{bold:#} — {}",
        playbook.name, playbook.title
    )];
    if !playbook.description.is_empty() {
        lines.push(playbook.description.clone());
    }
    lines.push(String::new());
    lines.push(format!("{bold}Inputs{bold:#}"));
    for (name, input) in &playbook.inputs {
        let state = match (values.get(name), input.optional) {
            (Some(value), _) => format!("= {value}"),
            (None, true) => "(optional, unset)".to_owned(),
            (None, false) => "(required, unset)".to_owned(),
        };
        lines.push(format!("  {name:<18} {state}  {dim}{}{dim:#}", input.help));
    }
    for step in &playbook.steps {
        lines.push(String::new());
        let plugin = prepared.plugins.get(&step.plugin);
        let origin = prepared
            .plugins
            .origin(&step.plugin)
            .map(ToString::to_string)
            .unwrap_or_default();
        let title = step.title.as_deref().unwrap_or(&step.id.value);
        lines.push(format!("{bold}Step {}{bold:#} — {title}", step.id.value));
        if let Some(plugin) = plugin {
            lines.push(format!(
                "  plugin   {} v{} ({origin}): {}",
                plugin.info.name, plugin.info.version, plugin.info.description
            ));
        }
        if !step.needs.is_empty() {
            let needs: Vec<&str> = step.needs.iter().map(|n| n.value.as_str()).collect();
            lines.push(format!("  needs    {}", needs.join(", ")));
        }
        if let Some(when) = &step.when {
            lines.push(format!("  when     {:?}", when.value));
        }
        for (key, value) in &step.with {
            let text = serde_json::to_string(&value.value).unwrap_or_default();
            lines.push(format!("  with     {key} = {}", shown(&text)));
        }
        if let Some(fixes) = &step.fixes {
            let mut line = format!(
                "  fixes    {} (runs only when the checks establish it and rank it first",
                fixes.value
            );
            if !step.even_below.is_empty() {
                let below: Vec<&str> = step.even_below.iter().map(|c| c.value.as_str()).collect();
                line.push_str(&format!(", or only {} above it", below.join(", ")));
            }
            lines.push(format!("{line})"));
        }
        let grants = step.allow.describe(shown);
        if grants.is_empty() {
            lines.push("  grants   none (deny all)".to_owned());
        }
        for grant in grants {
            lines.push(format!("  grants   {grant}"));
        }
        if let Some(plugin) = plugin
            && !plugin.info.needs.is_empty()
        {
            lines.push(format!(
                "  {dim}plugin asks for: {}{dim:#}",
                plugin.info.needs.join(", ")
            ));
        }
        let timeout = step
            .timeout
            .as_ref()
            .map_or("30s (default)".to_owned(), |t| t.value.clone());
        let memory = step
            .memory
            .as_ref()
            .map_or("256MiB (default)".to_owned(), |m| m.value.clone());
        lines.push(format!("  budget   timeout {timeout}, memory {memory}"));
    }
    for line in lines {
        writeln!(out, "{line}").map_err(CliError::Output)?;
    }
    Ok(exit::OK)
}
