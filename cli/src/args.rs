//! Shared argument parsing: sizes, addresses, uuids, kernel profiles, and a tiny flag reader.

use nvdimm_infoblock::{Profile, Uuid};

/// A command-line error: one line for the user, exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses a byte count or address: decimal, `0x` hex, or with a binary suffix
/// `K`, `M`, `G`, `T` (also `KiB`.., case-insensitive): `4K`, `2M`, `1G`, `0x100000000`.
pub fn parse_size(text: &str) -> Result<u64, UsageError> {
    let err = || UsageError(format!("invalid size or address {text:?}"));
    let t = text.trim();
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).map_err(|_| err());
    }
    let lower = t.to_ascii_lowercase();
    let lower = lower
        .strip_suffix("ib")
        .or_else(|| lower.strip_suffix('b'))
        .unwrap_or(&lower);
    let (digits, shift) = match lower.chars().last() {
        Some('k') => (&lower[..lower.len() - 1], 10),
        Some('m') => (&lower[..lower.len() - 1], 20),
        Some('g') => (&lower[..lower.len() - 1], 30),
        Some('t') => (&lower[..lower.len() - 1], 40),
        _ => (lower, 0),
    };
    let n: u64 = digits.parse().map_err(|_| err())?;
    n.checked_mul(1u64 << shift).ok_or_else(err)
}

/// Parses a canonical uuid.
pub fn parse_uuid(text: &str) -> Result<Uuid, UsageError> {
    text.parse()
        .map_err(|e| UsageError(format!("invalid uuid {text:?}: {e}")))
}

/// Parses `--kernel`: a release such as `6.12`, `6.1`, `4.19`, optionally prefixed with
/// `linux-`, or `newest` (the default).
pub fn parse_kernel(text: &str) -> Result<Profile, UsageError> {
    let t = text.strip_prefix("linux-").unwrap_or(text);
    if t == "newest" || t == "latest" {
        return Ok(Profile::NEWEST_X86_64);
    }
    Profile::x86_64_for_release(t).ok_or_else(|| {
        UsageError(format!(
            "unknown kernel {text:?} (expected e.g. 6.12, 5.4, 4.19)"
        ))
    })
}

/// A simple option reader: `--name value`, `--name=value`, `--flag`, and positionals.
#[derive(Debug, Default)]
pub struct Args {
    items: Vec<String>,
}

impl Args {
    pub fn new(items: Vec<String>) -> Self {
        Self { items }
    }

    /// Removes `--name` and returns whether it was there.
    pub fn flag(&mut self, name: &str) -> bool {
        let before = self.items.len();
        self.items.retain(|a| a != name);
        self.items.len() != before
    }

    /// Removes `--name VALUE` or `--name=VALUE` and returns the value.
    pub fn value(&mut self, name: &str) -> Result<Option<String>, UsageError> {
        let prefix = format!("{name}=");
        if let Some(i) = self.items.iter().position(|a| a.starts_with(&prefix)) {
            let item = self.items.remove(i);
            return Ok(Some(item[prefix.len()..].to_owned()));
        }
        if let Some(i) = self.items.iter().position(|a| a == name) {
            if i + 1 >= self.items.len() {
                return Err(UsageError(format!("{name} needs a value")));
            }
            self.items.remove(i);
            return Ok(Some(self.items.remove(i)));
        }
        Ok(None)
    }

    /// The remaining positionals; an error if an unknown `--option` is left.
    pub fn finish(self) -> Result<Vec<String>, UsageError> {
        if let Some(opt) = self
            .items
            .iter()
            .find(|a| a.starts_with("--") && a.len() > 2)
        {
            return Err(UsageError(format!("unknown option {opt}")));
        }
        Ok(self.items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert_eq!(parse_size("4K").unwrap(), 4096);
        assert_eq!(parse_size("2M").unwrap(), 2 << 20);
        assert_eq!(parse_size("1G").unwrap(), 1 << 30);
        assert_eq!(parse_size("1T").unwrap(), 1 << 40);
        assert_eq!(parse_size("16MiB").unwrap(), 16 << 20);
        assert_eq!(parse_size("0x100000000").unwrap(), 1 << 32);
        assert!(parse_size("20000000T").is_err());
        assert!(parse_size("3Q").is_err());
        assert!(parse_size("").is_err());
    }
}
