//! Shared argument parsing: sizes, addresses, uuids and kernel profiles, as clap value
//! parsers (`value_parser = parse_size`): an `Err` names what is wrong and clap adds the flag.

use nvdimm_infoblock::{Platform, Profile, Uuid};

/// Parses a byte count or address: decimal, `0x` hex, or with a binary suffix
/// `K`, `M`, `G`, `T` (also `KiB`.., case-insensitive): `4K`, `2M`, `1G`, `0x100000000`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let err = || format!("invalid size or address {text:?} (decimal, 0x hex, or 4K, 2M, 1G, 1T)");
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
pub fn parse_uuid(text: &str) -> Result<Uuid, String> {
    text.parse()
        .map_err(|e| format!("invalid uuid {text:?}: {e}"))
}

/// Parses `--kernel`: a release such as `6.12`, `6.1`, `4.19`, optionally prefixed with
/// `linux-`, or `newest` (the default; `latest` is a hidden alias).
pub fn parse_kernel(text: &str) -> Result<Profile, String> {
    let t = text.strip_prefix("linux-").unwrap_or(text);
    if t == "newest" || t == "latest" {
        return Ok(Profile::NEWEST_X86_64);
    }
    Profile::x86_64_for_release(t)
        .ok_or_else(|| format!("unknown kernel {text:?} (expected e.g. 6.12, 5.4, 4.19, newest)"))
}

/// Parses `--platform`: one of [`Platform::ALL`] by name.
pub fn parse_platform(name: &str) -> Result<Platform, String> {
    Platform::ALL
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = Platform::ALL.iter().map(|p| p.name).collect();
            format!(
                "unknown platform {name:?} (expected one of {})",
                names.join(", ")
            )
        })
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
