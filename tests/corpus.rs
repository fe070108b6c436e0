//! The crate against real blocks written by ndctl 76.1 (tests/data/ndctl, provenance in
//! tests/data/README.md).
//!
//! * Every good block parses, and every field ndctl's `read-infoblock -j` printed (recorded
//!   in manifest.json) equals the crate's *stored* value. ndctl prints raw stored values and
//!   never applies the kernel's defaulting by minor version.
//! * Every patched block in bad/ gives what its patch implies under FORMAT.md's rules. The
//!   expectation is derived from the patch description in bad/results.json (field = value,
//!   checksum fix / keep / flipcsum) and the base block's ndctl JSON, not from the crate.

use std::path::PathBuf;

use nvdimm_infoblock::{
    parse, DeviceKind, DialectChoice, ErrorClass, InfoBlock, ParseError, ParseOptions, PfnInfo,
    Signature, Uuid,
};
use serde_json::Value;

#[path = "support/mod.rs"]
mod support;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/ndctl")
}

fn read_json(path: &str) -> Value {
    let text = std::fs::read_to_string(data_dir().join(path)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// FORMAT.md §2.1–2.2 written the obvious way: 32-bit LE words, wrapping low sum, only the low
/// 32 bits of the high sum kept, the checksum field (bytes 4088..4096) taken as zero.
fn reference_checksum(block: &[u8]) -> u64 {
    let mut bytes = block.to_vec();
    bytes[4088..].fill(0);
    let (mut lo, mut hi) = (0u32, 0u64);
    for w in bytes.chunks_exact(4) {
        lo = lo.wrapping_add(u32::from_le_bytes(w.try_into().unwrap()));
        hi = hi.wrapping_add(u64::from(lo));
    }
    (hi << 32) | u64::from(lo)
}

/// The keys of one `ndctl read-infoblock -j` object for a pfn/dax block, in ndctl's order.
const NDCTL_KEYS: [&str; 14] = [
    "file",
    "signature",
    "uuid",
    "parent_uuid",
    "flags",
    "version",
    "dataoff",
    "npfns",
    "mode",
    "start_pad",
    "end_trunc",
    "align",
    "page_size",
    "page_struct_size",
];

fn assert_matches_ndctl(block: &InfoBlock, ndctl: &Value, what: &str) {
    let obj = ndctl.as_object().unwrap();
    let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    let mut want: Vec<&str> = NDCTL_KEYS.to_vec();
    want.sort_unstable();
    let mut got = keys.clone();
    got.sort_unstable();
    assert_eq!(got, want, "{what}: ndctl's keys");
    for (key, ours) in support::stored_as_ndctl_json(block) {
        assert_eq!(ours, obj[key], "{what}: {key}");
    }
}

fn u64_field(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} = {}", v[key]))
}

#[test]
fn every_good_block_equals_ndctl_read_infoblock() {
    let manifest = read_json("manifest.json");
    let mut checked = 0;
    for case in manifest.as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        if case["write_rc"] != 0 {
            // ndctl refused to write (rc 250): no .bin exists.
            assert!(!data_dir().join(format!("{name}.bin")).exists(), "{name}");
            continue;
        }
        let head = std::fs::read(data_dir().join(case["file"].as_str().unwrap())).unwrap();
        assert_eq!(head.len(), 8192, "{name}");
        let parsed = parse(&head, &ParseOptions::DEFAULT).unwrap_or_else(|e| panic!("{name}: {e}"));
        let json = &case["read_json"]["json"];
        assert_eq!(json.as_array().unwrap().len(), 1, "{name}");
        assert_matches_ndctl(parsed.block, &json[0], name);
        // `-j -V` (checksum verified by ndctl) printed the same object.
        assert_eq!(case["read_json_verify"]["json"], *json, "{name}");

        // v1.4 blocks have every field, so the model equals the stored values too.
        let o = &json[0];
        let info = parsed.info;
        let kind = match o["signature"].as_str().unwrap() {
            "NVDIMM_PFN_INFO" => DeviceKind::Fsdax,
            "NVDIMM_DAX_INFO" => DeviceKind::Devdax,
            other => panic!("{name}: {other}"),
        };
        assert_eq!(info.kind, kind, "{name}");
        assert_eq!(info.uuid.to_string(), o["uuid"], "{name}");
        assert_eq!(info.parent_uuid.to_string(), o["parent_uuid"], "{name}");
        assert_eq!(info.version.to_string(), o["version"], "{name}");
        assert_eq!(u64::from(info.flags), u64_field(o, "flags"), "{name}");
        assert_eq!(info.dataoff, u64_field(o, "dataoff"), "{name}");
        assert_eq!(info.npfns, u64_field(o, "npfns"), "{name}");
        assert_eq!(
            i64::from(info.mode.0),
            o["mode"].as_i64().unwrap(),
            "{name}"
        );
        assert_eq!(
            u64::from(info.start_pad),
            u64_field(o, "start_pad"),
            "{name}"
        );
        assert_eq!(
            u64::from(info.end_trunc),
            u64_field(o, "end_trunc"),
            "{name}"
        );
        assert_eq!(u64::from(info.align), u64_field(o, "align"), "{name}");
        assert_eq!(
            u64::from(info.page_size),
            u64_field(o, "page_size"),
            "{name}"
        );
        assert_eq!(
            u64::from(info.page_struct_size),
            u64_field(o, "page_struct_size"),
            "{name}"
        );
        assert_eq!(info.min_version, None, "{name}");
        // The first 4 KiB are the zeros ndctl writes there (NDCTL.md §2.6).
        assert!(head[..4096].iter().all(|&b| b == 0), "{name}");
        checked += 1;
    }
    assert_eq!(checked, 36);
}

/// ndctl's man-page example (`-s 1T -a 16M`) as documented: dataoff 17196646400,
/// npfns 264237056 (NDCTL.md §1), read through the crate.
#[test]
fn man_page_example_1t_a16m() {
    let head = std::fs::read(data_dir().join("fsdax-1T-a16M.bin")).unwrap();
    let info = parse(&head, &ParseOptions::DEFAULT).unwrap().info;
    assert_eq!(info.dataoff, 17_196_646_400);
    assert_eq!(info.npfns, 264_237_056);
    assert_eq!(info.align, 16 << 20);
}

// ---------------------------------------------------------------------------------------
// bad/: what each patch implies.

/// A block's stored fields as named in results.json's patch descriptions.
#[derive(Clone, Debug, PartialEq)]
struct Stored {
    signature: [u8; 16],
    uuid: Uuid,
    parent_uuid: Uuid,
    flags: u32,
    version_major: u16,
    version_minor: u16,
    dataoff: u64,
    npfns: u64,
    mode: u32,
    start_pad: u32,
    end_trunc: u32,
    align: u32,
    page_size: u32,
    page_struct_size: u16,
}

fn num(text: &str) -> u64 {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).unwrap(),
        None => text.parse().unwrap(),
    }
}

impl Stored {
    /// From ndctl's JSON of the base block.
    fn from_ndctl(o: &Value) -> Self {
        let sig = o["signature"].as_str().unwrap().as_bytes();
        let mut signature = [0u8; 16];
        signature[..sig.len()].copy_from_slice(sig);
        let (major, minor) = o["version"].as_str().unwrap().split_once('.').unwrap();
        Self {
            signature,
            uuid: o["uuid"].as_str().unwrap().parse().unwrap(),
            parent_uuid: o["parent_uuid"].as_str().unwrap().parse().unwrap(),
            flags: u64_field(o, "flags").try_into().unwrap(),
            version_major: major.parse().unwrap(),
            version_minor: minor.parse().unwrap(),
            dataoff: u64_field(o, "dataoff"),
            npfns: u64_field(o, "npfns"),
            mode: u32::from_le_bytes(
                i32::try_from(o["mode"].as_i64().unwrap())
                    .unwrap()
                    .to_le_bytes(),
            ),
            start_pad: u64_field(o, "start_pad").try_into().unwrap(),
            end_trunc: u64_field(o, "end_trunc").try_into().unwrap(),
            align: u64_field(o, "align").try_into().unwrap(),
            page_size: u64_field(o, "page_size").try_into().unwrap(),
            page_struct_size: u64_field(o, "page_struct_size").try_into().unwrap(),
        }
    }

    /// Applies one `field: value` patch from results.json.
    fn patch(&mut self, field: &str, value: &str) {
        let n = |v: &str| num(v);
        match field {
            "signature" => {
                // The patched text, NUL-padded to 16 bytes (ndctl-style C string); a
                // 16-character text has no NUL.
                let mut sig = [0u8; 16];
                sig[..value.len()].copy_from_slice(value.as_bytes());
                self.signature = sig;
            }
            "uuid" => self.uuid = value.parse().unwrap(),
            "parent_uuid" => self.parent_uuid = value.parse().unwrap(),
            "flags" => self.flags = n(value).try_into().unwrap(),
            "version_major" => self.version_major = n(value).try_into().unwrap(),
            "version_minor" => self.version_minor = n(value).try_into().unwrap(),
            "dataoff" => self.dataoff = n(value),
            "npfns" => self.npfns = n(value),
            "mode" => self.mode = n(value).try_into().unwrap(),
            "start_pad" => self.start_pad = n(value).try_into().unwrap(),
            "end_trunc" => self.end_trunc = n(value).try_into().unwrap(),
            "align" => self.align = n(value).try_into().unwrap(),
            "page_size" => self.page_size = n(value).try_into().unwrap(),
            "page_struct_size" => self.page_struct_size = n(value).try_into().unwrap(),
            other => panic!("unknown patched field {other}"),
        }
    }

    /// Bytes 0..96 by FORMAT.md §1.2, little-endian.
    fn to_head(&self) -> [u8; 96] {
        let mut h = [0u8; 96];
        h[0..16].copy_from_slice(&self.signature);
        h[16..32].copy_from_slice(&self.uuid.0);
        h[32..48].copy_from_slice(&self.parent_uuid.0);
        h[48..52].copy_from_slice(&self.flags.to_le_bytes());
        h[52..54].copy_from_slice(&self.version_major.to_le_bytes());
        h[54..56].copy_from_slice(&self.version_minor.to_le_bytes());
        h[56..64].copy_from_slice(&self.dataoff.to_le_bytes());
        h[64..72].copy_from_slice(&self.npfns.to_le_bytes());
        h[72..76].copy_from_slice(&self.mode.to_le_bytes());
        h[76..80].copy_from_slice(&self.start_pad.to_le_bytes());
        h[80..84].copy_from_slice(&self.end_trunc.to_le_bytes());
        h[84..88].copy_from_slice(&self.align.to_le_bytes());
        h[88..92].copy_from_slice(&self.page_size.to_le_bytes());
        h[92..94].copy_from_slice(&self.page_struct_size.to_le_bytes());
        h
    }

    fn from_head(h: &[u8; 96]) -> Self {
        let u16_at = |o: usize| u16::from_le_bytes(h[o..o + 2].try_into().unwrap());
        let u32_at = |o: usize| u32::from_le_bytes(h[o..o + 4].try_into().unwrap());
        let u64_at = |o: usize| u64::from_le_bytes(h[o..o + 8].try_into().unwrap());
        Self {
            signature: h[0..16].try_into().unwrap(),
            uuid: Uuid(h[16..32].try_into().unwrap()),
            parent_uuid: Uuid(h[32..48].try_into().unwrap()),
            flags: u32_at(48),
            version_major: u16_at(52),
            version_minor: u16_at(54),
            dataoff: u64_at(56),
            npfns: u64_at(64),
            mode: u32_at(72),
            start_pad: u32_at(76),
            end_trunc: u32_at(80),
            align: u32_at(84),
            page_size: u32_at(88),
            page_struct_size: u16_at(92),
        }
    }

    fn of_block(b: &InfoBlock) -> Self {
        Self {
            signature: b.signature.0,
            uuid: b.uuid,
            parent_uuid: b.parent_uuid,
            flags: b.flags.get(),
            version_major: b.version_major.get(),
            version_minor: b.version_minor.get(),
            dataoff: b.dataoff.get(),
            npfns: b.npfns.get(),
            mode: b.mode.get(),
            start_pad: b.start_pad.get(),
            end_trunc: b.end_trunc.get(),
            align: b.align.get(),
            page_size: b.page_size.get(),
            page_struct_size: b.page_struct_size.get(),
        }
    }

    /// The kernel's reading (FORMAT.md §3.7 step 7) for a reader with 4 KiB pages: minor < 1
    /// zeroes start_pad/end_trunc, minor < 2 zeroes align, minor < 4 gives page_size 4096 and
    /// page_struct_size 64; major is never looked at; minors > 4 read as 4. Under dialect
    /// detection (§1.5–1.6) a minor-3 block with non-zero bytes 88..90 carries the 2019
    /// proposal's `min_version` there.
    fn expected_model(&self, kind: DeviceKind) -> PfnInfo {
        let minor = self.version_minor;
        let low88 = u16::try_from(self.page_size & 0xffff).unwrap();
        PfnInfo {
            kind,
            uuid: self.uuid,
            parent_uuid: self.parent_uuid,
            flags: self.flags,
            version: nvdimm_infoblock::Version::new(self.version_major, minor),
            dataoff: self.dataoff,
            npfns: self.npfns,
            mode: nvdimm_infoblock::Mode(self.mode),
            start_pad: if minor < 1 { 0 } else { self.start_pad },
            end_trunc: if minor < 1 { 0 } else { self.end_trunc },
            align: if minor < 2 { 0 } else { self.align },
            page_size: if minor < 4 { 4096 } else { self.page_size },
            page_struct_size: if minor < 4 { 64 } else { self.page_struct_size },
            min_version: (minor == 3 && low88 != 0).then_some(low88),
        }
    }
}

fn base_json(base: &str) -> Value {
    let manifest = read_json("manifest.json");
    let case = manifest
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["file"] == base)
        .unwrap();
    case["read_json"]["json"][0].clone()
}

#[test]
fn every_bad_block_gives_what_its_patch_implies() {
    let results = read_json("bad/results.json");
    let cases = results.as_array().unwrap();
    assert_eq!(cases.len(), 44);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let base_file = case["base"].as_str().unwrap();
        let head = std::fs::read(data_dir().join(case["file"].as_str().unwrap())).unwrap();
        let base_head = std::fs::read(data_dir().join(base_file)).unwrap();
        assert_eq!(head.len(), 8192, "{name}");
        let block = &head[4096..];
        let base_checksum = u64::from_le_bytes(base_head[8184..].try_into().unwrap());

        // The stored values the patch description implies.
        let mut want = Stored::from_ndctl(&base_json(base_file));
        let fields = case["fields"].as_object().unwrap();
        for (field, value) in fields {
            want.patch(field, value.as_str().unwrap());
        }
        let raw_patches = case["raw_bytes"].as_object().unwrap();
        let got_block = InfoBlock::locate(&head).unwrap();
        let mut want_head = want.to_head();
        for (at, how) in raw_patches {
            let at: usize = at.parse().unwrap();
            let (op, v) = how.as_str().unwrap().split_once(' ').unwrap();
            let v = u8::try_from(num(v)).unwrap();
            let base_byte = base_head[4096 + at];
            let expect = match op {
                "set" => v,
                "xor" => base_byte ^ v,
                other => panic!("{name}: unknown byte patch {other}"),
            };
            assert_eq!(block[at], expect, "{name}: byte {at}");
            if let Some(b) = want_head.get_mut(at) {
                *b = expect;
            }
        }
        let want = Stored::from_head(&want_head);
        assert_eq!(Stored::of_block(got_block), want, "{name}: stored fields");

        let stored = u64::from_le_bytes(block[4088..].try_into().unwrap());
        let computed = reference_checksum(block);
        let got = parse(&head, &ParseOptions::DEFAULT).map(|p| p.info);
        let checksum_mode = case["checksum"].as_str().unwrap();
        let sig_patched = fields.contains_key("signature");

        if sig_patched {
            // FORMAT.md §3.7 step 4: the signature is compared first, over all 16 bytes.
            assert_eq!(
                got,
                Err(ParseError::BadSignature {
                    found: Signature(want.signature)
                }),
                "{name}"
            );
            assert_eq!(
                got.unwrap_err().class(),
                ErrorClass::NotAnInfoBlock,
                "{name}"
            );
            continue;
        }
        match checksum_mode {
            "keep" => {
                // The payload changed, the base block's checksum stayed.
                assert_eq!(stored, base_checksum, "{name}");
                assert_ne!(computed, stored, "{name}");
                assert_eq!(
                    got,
                    Err(ParseError::ChecksumMismatch { stored, computed }),
                    "{name}"
                );
                // ndctl's `-V` dropped it too.
                assert_eq!(case["jV"]["json"], Value::Array(vec![]), "{name}");
            }
            "flipcsum" => {
                assert_eq!(stored, base_checksum ^ 1, "{name}");
                assert_eq!(computed, base_checksum, "{name}");
                assert_eq!(
                    got,
                    Err(ParseError::ChecksumMismatch { stored, computed }),
                    "{name}"
                );
                assert_eq!(got.unwrap_err().class(), ErrorClass::Corrupt, "{name}");
            }
            "fix" => {
                assert_eq!(stored, computed, "{name}: checksum recomputed");
                let kind = if want.signature == Signature::DAX.0 {
                    DeviceKind::Devdax
                } else {
                    DeviceKind::Fsdax
                };
                assert_eq!(got, Ok(want.expected_model(kind)), "{name}");
            }
            other => panic!("{name}: unknown checksum mode {other}"),
        }
        // Wherever ndctl printed a pfn/dax object, its fields are the stored values.
        if let Some(obj) = case["j"]["json"].as_array().unwrap().first() {
            assert_matches_ndctl(got_block, obj, name);
        }
    }
}

/// v1.0 with start_pad 0x1000, end_trunc 0x2000, align 3, page_size 0, page_struct_size 0
/// stored: the kernel reads none of them (FORMAT.md §3.7 step 7), the block keeps them.
#[test]
fn v1_0_legacy_fields() {
    let head = std::fs::read(data_dir().join("bad/v1.0-legacy-fields.bin")).unwrap();
    let parsed = parse(&head, &ParseOptions::DEFAULT).unwrap();
    let (info, block) = (parsed.info, parsed.block);
    assert_eq!(
        (info.start_pad, info.end_trunc, info.align),
        (0, 0, 0),
        "minor 0 has no start_pad/end_trunc/align"
    );
    assert_eq!((info.page_size, info.page_struct_size), (4096, 64));
    assert_eq!(
        (
            block.start_pad.get(),
            block.end_trunc.get(),
            block.align.get(),
            block.page_size.get(),
            block.page_struct_size.get()
        ),
        (4096, 8192, 3, 0, 0)
    );
    // A 64 KiB-page reader defaults page_size to its own.
    let o = ParseOptions {
        page_size: 65536,
        ..ParseOptions::DEFAULT
    };
    assert_eq!(parse(&head, &o).unwrap().info.page_size, 65536);
}

/// ndctl reads `BTT_ARENA_INFO` at 4096 as a BTT block; for this crate it is not a pfn/dax
/// block, and the error says it is a BTT one.
#[test]
fn sig_btt_is_named() {
    let head = std::fs::read(data_dir().join("bad/sig-btt.bin")).unwrap();
    let err = parse(&head, &ParseOptions::DEFAULT).unwrap_err();
    assert_eq!(
        err,
        ParseError::BadSignature {
            found: Signature::BTT
        }
    );
    assert!(err.to_string().contains("BTT"), "{err}");
    assert_eq!(err.class(), ErrorClass::NotAnInfoBlock);
}

/// bad/v1.3.bin is ndctl's v1.4 block with only its minor set to 3: bytes 88..92 still hold
/// page_size 4096 (00 10 00 00), which upstream v1.3 promises to be zero. Under dialect
/// detection that is the 2019 proposal's min_version = 0x1000; forcing the upstream reading
/// gives no min_version. Either way page_size/page_struct_size are defaulted (minor < 4).
#[test]
fn v1_3_relabelled_v1_4_meets_the_dialect_rule() {
    for file in ["bad/v1.3.bin", "bad/v1.3-dax.bin"] {
        let head = std::fs::read(data_dir().join(file)).unwrap();
        let auto = parse(&head, &ParseOptions::DEFAULT).unwrap().info;
        assert_eq!(auto.min_version, Some(0x1000), "{file}");
        let upstream = ParseOptions {
            dialect: DialectChoice::Upstream,
            ..ParseOptions::DEFAULT
        };
        let up = parse(&head, &upstream).unwrap().info;
        assert_eq!(up.min_version, None, "{file}");
        assert_eq!(
            PfnInfo {
                min_version: None,
                ..auto
            },
            up,
            "{file}"
        );
        assert_eq!((up.page_size, up.page_struct_size), (4096, 64), "{file}");
        assert_eq!(up.align, 2 << 20, "{file}");
    }
}

/// Blocks ndctl cannot print (version 1.10, 10.0, 1.65535) parse; minor > 4 reads as 4, and a
/// major of 10 with minor 0 reads as v1.0.
#[test]
fn versions_ndctl_drops() {
    let read = |f: &str| {
        let head = std::fs::read(data_dir().join(f)).unwrap();
        parse(&head, &ParseOptions::DEFAULT).unwrap().info
    };
    let v110 = read("bad/v1.10.bin");
    assert_eq!(v110.version.to_string(), "1.10");
    assert_eq!(v110.page_size, 4096);
    assert_eq!(v110.align, 2 << 20);
    assert_eq!(read("bad/v1.65535.bin").version.effective_minor(), 4);
    let v100 = read("bad/v10.0.bin");
    assert_eq!(v100.align, 0);
    assert_eq!(v100.version.major, 10);
}
