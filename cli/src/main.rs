//! `infoblock`: inspect, check, plan, create and upgrade nvdimm info-blocks.
//!
//! Exit codes (all subcommands): 0 success / the block is usable; 1 the block is unusable or
//! the kernel would not enable it; 2 a usage or I/O error (one line on stderr).

mod args;
mod check;
mod compat;
mod inspect;
mod json;
mod plan;

use std::process::ExitCode;

use args::UsageError;

const USAGE: &str = "\
usage: infoblock [COMMAND] [ARGS]
  inspect [PATH...] [--json] [--page-size N] [--dialect auto|upstream|2019]
  (no command, or inspect without PATH: inspect the embedded sample namespace head,
   ndctl's fsdax-1G-a2M-parent.bin)
  check PATH --ns-start ADDR [--ns-size BYTES] [--parent-uuid UUID] [--kernel PROFILE] [--json]
  plan --size S [--align A] [--mode fsdax|devdax] [--map dev|mem] [--ns-start ADDR]
       [--kernel PROFILE] [--platform NAME] [--usable N [--granule G]] [--json]
       [--start-collides] [--end-collides] [--start-pad N --end-trunc N]
  create PATH [plan options; --size defaults to the file size] [--uuid U] [--parent-uuid U]
       [--version 1.0..1.4] [--force]
  compat PATH [--ns-start ADDR] [--ns-size SIZE] [--parent-uuid UUID] [--json]
  upgrade PATH --to 1.0|1.1|1.2|1.3|1.4|2019-1.3 [--ns-start ADDR] [--ns-size SIZE] [--dry-run] [--json]
exit codes: 0 ok, 1 block unusable / kernel would refuse, 2 usage or I/O error";

/// What a subcommand reports: its exit code.
pub type CmdResult = Result<ExitCode, UsageError>;

fn main() -> ExitCode {
    let mut argv: Vec<String> = std::env::args().skip(1).collect();
    let command = if argv.is_empty() {
        "inspect".to_owned()
    } else {
        argv.remove(0)
    };
    let result = match command.as_str() {
        "inspect" => inspect::run(argv),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        "check" => check::run(argv),
        "plan" => plan::plan(args::Args::new(argv)),
        "create" => plan::create(args::Args::new(argv)),
        "compat" => compat::run_compat(argv),
        "upgrade" => compat::run_upgrade(argv),
        other => Err(UsageError(format!("unknown command {other:?}\n{USAGE}"))),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("infoblock: {e}");
            ExitCode::from(2)
        }
    }
}
