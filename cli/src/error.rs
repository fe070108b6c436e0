//! The single error path: a [`Failure`] is one line on stderr and a non-zero exit code.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};

/// The non-zero exit codes of every command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 1: a negative answer to the question the command asks: a block is unusable, the kernel
    /// would use the namespace raw or refuse it, a layout or an upgrade is refused, no kernel
    /// loads the block. The report (if any) is on stdout as usual.
    Negative,
    /// 2: a usage or I/O error: unknown option, bad value, missing or unreadable file.
    Usage,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Self::Negative => 1,
            Self::Usage => 2,
        }
    }
}

/// Why a command exits non-zero: the exit code and the one line printed on stderr (after
/// `infoblock: `).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The exit code.
    pub exit: Exit,
    /// The line, without the `infoblock: ` prefix.
    pub message: String,
}

impl Failure {
    /// A usage or I/O error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            exit: Exit::Usage,
            message: message.into(),
        }
    }

    /// A negative answer (exit 1).
    pub fn negative(message: impl Into<String>) -> Self {
        Self {
            exit: Exit::Negative,
            message: message.into(),
        }
    }

    /// The line as printed: `infoblock: ` and the message with any line breaks folded, so
    /// that it is always exactly one line.
    pub fn line(&self) -> String {
        let folded: Vec<&str> = self
            .message
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        format!("infoblock: {}", folded.join(" "))
    }

    /// Prints the line on stderr and returns the exit code.
    pub fn report(&self) -> ExitCode {
        eprintln!("{}", self.line());
        ExitCode::from(self.exit.code())
    }
}

/// The name of the (sub)command a parse error is about, e.g. `check` or `btt read`, found
/// by walking `argv` through the command tree.
fn command_path(argv: &[OsString], mut cmd: &clap::Command) -> String {
    let mut names = Vec::new();
    for arg in argv.iter().skip(1) {
        let Some(arg) = arg.to_str() else { break };
        if arg.starts_with('-') {
            continue;
        }
        match cmd.find_subcommand(arg) {
            Some(sub) => {
                names.push(sub.get_name().to_owned());
                cmd = sub;
            }
            None => break,
        }
    }
    names.join(" ")
}

fn context_string(e: &clap::Error, kind: ContextKind) -> Option<String> {
    match e.get(kind)? {
        ContextValue::String(s) => Some(s.clone()),
        ContextValue::Strings(v) => Some(v.join(", ")),
        ContextValue::StyledStr(s) => Some(s.to_string()),
        ContextValue::StyledStrs(v) => Some(
            v.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ContextValue::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `--dialect <DIALECT>` -> (`--dialect`, `dialect`).
fn flag_and_noun(arg: &str) -> (String, String) {
    match arg.split_once(' ') {
        Some((flag, value)) => (
            flag.to_owned(),
            value
                .trim_matches(|c| c == '<' || c == '>' || c == '.')
                .to_ascii_lowercase(),
        ),
        None => (arg.to_owned(), "value".to_owned()),
    }
}

/// One line for a clap parse error, naming the command and the offending argument, e.g.
/// `check: unknown option --bogus`.
pub fn clap_line(e: &clap::Error, argv: &[OsString], root: &clap::Command) -> String {
    let path = command_path(argv, root);
    let prefix = if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    };
    let arg = context_string(e, ContextKind::InvalidArg).unwrap_or_default();
    let value = context_string(e, ContextKind::InvalidValue);
    let body = match e.kind() {
        ErrorKind::UnknownArgument => {
            let mut s = if arg.starts_with('-') {
                format!("unknown option {arg}")
            } else {
                format!("unexpected argument {arg:?}")
            };
            if let Some(tip) = context_string(e, ContextKind::SuggestedArg) {
                s += &format!(" (did you mean {tip}?)");
            }
            s
        }
        ErrorKind::InvalidSubcommand => {
            let name = context_string(e, ContextKind::InvalidSubcommand).unwrap_or(arg);
            let mut s = format!("unknown command {name:?}");
            if let Some(tip) = context_string(e, ContextKind::SuggestedSubcommand) {
                s += &format!(" (did you mean {tip}?)");
            }
            s
        }
        ErrorKind::InvalidValue => {
            let (flag, noun) = flag_and_noun(&arg);
            match value.as_deref() {
                None | Some("") => format!("{flag} needs a value"),
                Some(v) => {
                    let valid = context_string(e, ContextKind::ValidValue)
                        .map(|v| format!(" (expected {v})"))
                        .unwrap_or_default();
                    format!("unknown {noun} {v:?} for {flag}{valid}")
                }
            }
        }
        ErrorKind::ValueValidation => {
            let (flag, _) = flag_and_noun(&arg);
            let why = std::error::Error::source(e)
                .map(ToString::to_string)
                .unwrap_or_else(|| "invalid value".to_owned());
            match value {
                Some(v) => format!("{flag} {v:?}: {why}"),
                None => format!("{flag}: {why}"),
            }
        }
        ErrorKind::MissingRequiredArgument => format!("missing {arg}"),
        ErrorKind::ArgumentConflict => {
            let other = context_string(e, ContextKind::PriorArg).unwrap_or_default();
            format!("{arg} cannot be used with {other}")
        }
        ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            format!("a subcommand is required (see infoblock {path} --help)")
        }
        _ => {
            // Anything else: clap's own first line, without its "error: " prefix.
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            first.strip_prefix("error: ").unwrap_or(first).to_owned()
        }
    };
    format!("{prefix}{body}")
}
