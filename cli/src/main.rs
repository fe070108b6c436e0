//! `infoblock`: inspect, check, plan, create and upgrade nvdimm info-blocks.
//!
//! The command line is one clap derive tree: [`Cli`] holds the global flags and one
//! [`Command`]; each variant's arguments and its `run` live in the variant's own module. Every
//! command returns `Result<(), Failure>`; this file is the single error path: a [`Failure`]
//! (or a clap parse error) becomes exactly one `infoblock: ...` line on stderr and its exit
//! code (see [`error::Exit`]).
//!
//! Adding a command or a subcommand group (`btt read|check|create`, `labels ...`) is one
//! variant in [`Command`] and one module with a `#[derive(clap::Args)]` (or, for a group, a
//! `#[derive(clap::Subcommand)]` enum inside a `#[derive(clap::Args)]` struct) and a
//! `run(args, &Ctx) -> Result<(), Failure>`; see docs/cli.md "Adding a command".

mod args;
mod btt;
mod btt_inspect;
mod check;
mod compat;
mod completions;
mod error;
mod image;
mod inspect;
mod labels;
mod nsarg;
mod output;
mod plan;
mod probe;
mod progress;
mod sysfs;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory as _, Parser, Subcommand};

pub use error::{Exit, Failure};

/// Exit codes shown at the end of `infoblock --help`.
const EXIT_CODES: &str = "\
Exit codes (every command):
  0  success: the block is usable, the kernel enables the device, the layout or upgrade holds
  1  a negative answer: a block is unusable, the kernel would use the namespace raw or refuse
     it, a layout or upgrade is refused, no kernel loads the block
  2  a usage or I/O error: unknown option, bad value, missing or unreadable file
Every non-zero exit prints exactly one line on stderr, `infoblock: ...`.";

/// inspect, check, plan, create and upgrade nvdimm (libnvdimm pfn/dax) info-blocks.
///
/// With no command, `infoblock` inspects an embedded sample namespace head (ndctl's
/// fsdax-1G-a2M-parent.bin), as `infoblock inspect` does.
#[derive(Debug, Parser)]
#[command(
    name = "infoblock",
    version,
    after_help = EXIT_CODES,
    args_override_self = true,
    subcommand_required = false
)]
pub struct Cli {
    /// Flags every command takes.
    #[command(flatten)]
    pub global: Global,
    /// The command; none means `inspect` of the embedded sample.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Flags of every command (clap `global = true`: accepted before or after the command).
#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// Draw no progress bar (progress is only ever drawn on a terminal's stderr).
    #[arg(long, short = 'q', global = true, display_order = 900)]
    pub quiet: bool,
}

/// What every command gets besides its own arguments.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The global flags.
    pub global: Global,
}

/// The commands. One variant per command or command group, each with its module.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode info-blocks and explain every field (exit 1 when a block is unusable).
    #[command(long_about = inspect::LONG_ABOUT)]
    Inspect(inspect::InspectArgs),
    /// Predict what a Linux kernel does with a namespace image (exit 1 unless it enables it).
    Check(check::CheckArgs),
    /// Print the layout a kernel would write for a namespace, and what it would expose.
    Plan(plan::PlanArgs),
    /// Write the info-block a kernel would write at offset 4096 of a file (nothing else).
    Create(plan::CreateArgs),
    /// Which readers (kernels, ndctl, EFI, 2019 proposal) can read a block.
    Compat(compat::CompatArgs),
    /// Rewrite a block in another format version without moving the data.
    Upgrade(compat::UpgradeArgs),
    /// Namespace labels: list, init, add, rm (the label storage area, as the kernel reads it).
    Labels(labels::LabelsArgs),
    /// What the kernel makes of a namespace (BTT, fsdax, devdax, raw) and where its data is.
    Probe(probe::ProbeArgs),
    /// The BTT (sector mode) of a namespace: read blocks, check and repair, create.
    Btt(btt::BttArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on stdout.
    Completions(completions::CompletionsArgs),
}

impl Command {
    /// Runs the command.
    fn run(self, ctx: &Ctx) -> Result<(), Failure> {
        match self {
            Self::Inspect(a) => inspect::run(a, ctx),
            Self::Check(a) => check::run(a, ctx),
            Self::Plan(a) => plan::plan(a, ctx),
            Self::Create(a) => plan::create(a, ctx),
            Self::Compat(a) => compat::run_compat(a, ctx),
            Self::Upgrade(a) => compat::run_upgrade(a, ctx),
            Self::Labels(a) => labels::run(a, ctx),
            Self::Probe(a) => probe::run(a, ctx),
            Self::Btt(a) => btt::run(a, ctx),
            Self::Completions(a) => completions::run(a, ctx),
        }
    }
}

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let result = match Cli::try_parse_from(&argv) {
        Ok(cli) => {
            let ctx = Ctx { global: cli.global };
            let command = cli
                .command
                .unwrap_or_else(|| Command::Inspect(inspect::InspectArgs::default()));
            command.run(&ctx)
        }
        Err(e) => match e.kind() {
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                // Help and version go to stdout, exit 0.
                output::text(&e.render().to_string());
                Ok(())
            }
            _ => Err(Failure::usage(error::clap_line(&e, &argv, &Cli::command()))),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}
