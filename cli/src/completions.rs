//! `infoblock completions SHELL`: a completion script on stdout.

use clap::CommandFactory as _;
use clap_complete::Shell;

use crate::{output, Cli, Ctx, Failure};

const AFTER_HELP: &str = "\
Install, e.g.:
  bash:  infoblock completions bash > ~/.local/share/bash-completion/completions/infoblock
  zsh:   infoblock completions zsh > ~/.zfunc/_infoblock   (with fpath+=~/.zfunc)
  fish:  infoblock completions fish > ~/.config/fish/completions/infoblock.fish
Exit codes: 0 printed; 2 a usage error.";

/// Arguments of `infoblock completions`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell.
    #[arg(value_name = "SHELL", value_enum)]
    pub shell: Shell,
}

/// Prints the script.
pub fn run(args: CompletionsArgs, _ctx: &Ctx) -> Result<(), Failure> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "infoblock", &mut script);
    output::text(&String::from_utf8_lossy(&script));
    Ok(())
}
