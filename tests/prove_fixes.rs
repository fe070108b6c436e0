//! Behaviour pinned while making library functions provably panic-free (tests/no-panic/).
//!
//! `Profile::x86_64_for_release` was rewritten without `str::split` (core's splitter keeps a
//! panic path that survives LTO); these cases fix what a release string means, from the era
//! table (FORMAT.md §3: eras by first release) and the documented examples `"6.12"`, `"6.1"`,
//! `"4.19.37"`.

use nvdimm_infoblock::{Era, Profile};

fn era(release: &str) -> Option<Era> {
    Profile::x86_64_for_release(release).map(|p| p.era)
}

#[test]
fn release_strings() {
    assert_eq!(era("6.12"), Some(Era::V6_5));
    assert_eq!(era("6.1"), Some(Era::V6_1));
    assert_eq!(era("6.4"), Some(Era::V6_3));
    assert_eq!(era("4.19.37"), Some(Era::V4_15));
    assert_eq!(era("5.3.0-rc1"), Some(Era::V5_3));
    assert_eq!(era("4.3"), Some(Era::V4_3));
    // A bare major means minor 0.
    assert_eq!(era("5"), Some(Era::V4_15));
    // Before 4.3 there are no info-blocks.
    assert_eq!(era("4.2"), None);
    assert_eq!(era("3"), None);
}

#[test]
fn malformed_release_strings() {
    for bad in [
        "", ".", "6.", ".12", "six.1", "6.x", "6..1", "70000.1", "6.1x",
    ] {
        assert_eq!(era(bad), None, "{bad:?}");
    }
}
