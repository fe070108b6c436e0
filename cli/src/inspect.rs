//! `infoblock inspect`: decode info-blocks and explain every field.
//!
//! Input: a bare 4096-byte block, or anything of at least 8192 bytes (a namespace head or a
//! whole namespace image, a block device, `-` for stdin), of which only the first 8 KiB are
//! read and the block is bytes 4096..8192. With no PATH the embedded sample is inspected.
//!
//! Exit codes: 0 every block is usable (info-block signature and checksum ok); 1 some block is
//! unusable (bad checksum, or no pfn/dax signature: the kernel would ignore it and use the
//! namespace raw); 2 a usage or I/O error (missing file, directory, a length that is neither
//! 4096 nor ≥ 8192 bytes), one line on stderr per error. Blocks are never dropped: a bad one is
//! shown and flagged.

use std::fmt::Write as _;
use std::io::Read;

use nvdimm_infoblock::{
    DefaultedFields, DeviceKind, Dialect, DialectChoice, InfoBlock, ParseError, ParseOptions,
    PfnInfo, Signature, Version,
};
use serde::Serialize;

use crate::args::parse_size;
use crate::btt_inspect::{self, BttReport};
use crate::image::io_text;
use crate::{output, Ctx, Failure};

/// The sample namespace head inspected when no PATH is given: `ndctl write-infoblock` output for
/// a 1 GiB fsdax namespace, align 2 MiB, with a parent uuid (tests/data/ndctl, ndctl 76.1).
pub const SAMPLE: &[u8] = include_bytes!("../../tests/data/ndctl/fsdax-1G-a2M-parent.bin");
/// How the sample is named in reports.
pub const SAMPLE_NAME: &str = "<sample: fsdax-1G-a2M-parent.bin>";

/// The long help of `inspect` (`infoblock inspect --help`).
pub const LONG_ABOUT: &str = "\
Decodes the nd_pfn/nd_dax info-block of each PATH and explains every field.

PATH is a bare 4096-byte block, or a namespace head / whole namespace image / block device of
at least 8192 bytes (only the first 8 KiB are read; the block is at byte 4096). `-` reads
standard input. Without PATH, inspects the embedded sample: ndctl 76.1's
  ndctl write-infoblock -c -s 1G -m fsdax -a 2M -p aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee \\
        -u 11111111-2222-4333-8444-555555555555
(tests/data/ndctl/fsdax-1G-a2M-parent.bin).";

const AFTER_HELP: &str = "\
exit codes: 0 every block usable (signature and checksum ok); 1 some block unusable (bad
checksum or no info-block signature; every block is still reported); 2 a usage or I/O error
(the other PATHs are still reported). A non-zero exit prints one line on stderr.";

/// How bytes 88..90 of a minor-3 block are read (`--dialect`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum DialectArg {
    /// Minor 3 with non-zero bytes 88..90 is the 2019 min_version proposal.
    #[default]
    Auto,
    /// Never the 2019 dialect.
    Upstream,
    /// Always the 2019 dialect for minor 3.
    #[value(name = "2019", alias = "min-version", alias = "2019-min-version")]
    V2019,
}

impl From<DialectArg> for DialectChoice {
    fn from(d: DialectArg) -> Self {
        match d {
            DialectArg::Auto => Self::Auto,
            DialectArg::Upstream => Self::Upstream,
            DialectArg::V2019 => Self::MinVersion2019,
        }
    }
}

/// Arguments of `infoblock inspect`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct InspectArgs {
    /// Blocks, namespace heads, images or block devices; `-` for stdin; none: the sample.
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    /// Print a JSON array, one object per block, with the keys and value types of `ndctl
    /// read-infoblock -j` (stored values), plus checksum_ok and, in the 2019 dialect,
    /// min_version.
    #[arg(long)]
    pub json: bool,
    /// The reader's page size for blocks older than v1.4 (a power of two, 4K to 2G).
    #[arg(long, value_name = "N", value_parser = parse_page_size, default_value = "4096")]
    pub page_size: u32,
    /// How bytes 88..90 of a minor-3 block are read.
    #[arg(long, value_name = "DIALECT", value_enum, default_value_t)]
    pub dialect: DialectArg,
}

impl Default for InspectArgs {
    /// `inspect` with no argument (what `infoblock` alone runs): the sample, as text.
    fn default() -> Self {
        Self {
            paths: Vec::new(),
            json: false,
            page_size: ParseOptions::DEFAULT.page_size,
            dialect: DialectArg::Auto,
        }
    }
}

/// What was read from one PATH.
#[derive(Debug)]
struct Input {
    /// Name as given (or the sample's name).
    name: String,
    /// The bytes read: 4096 (bare block) or 8192 (head).
    bytes: Vec<u8>,
}

/// Runs `inspect`.
pub fn run(args: InspectArgs, _ctx: &Ctx) -> Result<(), Failure> {
    let parse = ParseOptions {
        page_size: args.page_size,
        dialect: args.dialect.into(),
        ..ParseOptions::DEFAULT
    };

    let mut io_errors = Vec::new();
    let mut inputs = Vec::new();
    // Each PATH's report in order: a pfn/dax report (index into `inputs`) or a BTT's.
    let mut order: Vec<Result<usize, BttReport>> = Vec::new();
    if args.paths.is_empty() {
        order.push(Ok(inputs.len()));
        inputs.push(Input {
            name: SAMPLE_NAME.to_owned(),
            bytes: SAMPLE.to_vec(),
        });
    }
    for path in &args.paths {
        if let Some(btt) = btt_inspect::detect(path) {
            order.push(Err(btt));
            continue;
        }
        match read_input(path) {
            Ok(input) => {
                order.push(Ok(inputs.len()));
                inputs.push(input);
            }
            Err(message) => io_errors.push(message),
        }
    }

    let reports: Vec<Report> = inputs
        .iter()
        .map(|input| Report::new(input, &parse))
        .collect();
    if args.json {
        /// One object of the array: a pfn/dax block (ndctl's keys) or a BTT.
        #[derive(Serialize)]
        #[serde(untagged)]
        enum Object<'a> {
            Block(BlockJson),
            Btt(&'a btt_inspect::BttJson),
        }
        let objects: Vec<Object<'_>> = order
            .iter()
            .map(|e| match e {
                Ok(i) => Object::Block(reports[*i].json()),
                Err(b) => Object::Btt(&b.json),
            })
            .collect();
        output::json(&objects)?;
    } else {
        let mut out = String::new();
        for (i, entry) in order.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            match entry {
                Ok(r) => reports[*r].human(&mut out, &parse),
                Err(b) => out += &b.text,
            }
        }
        output::text(&out);
    }
    let unusable: Vec<String> = order
        .iter()
        .filter_map(|e| match e {
            Ok(i) => {
                let r = &reports[*i];
                r.unusable_reason().map(|why| format!("{} ({why})", r.name))
            }
            Err(b) => b
                .unusable
                .as_ref()
                .map(|u| format!("{} (BTT: {u})", b.name)),
        })
        .collect();
    let unusable_text = match unusable.len() {
        0 => None,
        1 => Some(format!("unusable block: {}", unusable[0])),
        n if n <= 3 => Some(format!("{n} unusable blocks: {}", unusable.join(", "))),
        n => Some(format!(
            "{n} unusable blocks: {}, and {} more",
            unusable[..3].join(", "),
            n - 3
        )),
    };
    if !io_errors.is_empty() {
        let mut line = format!("inspect: {}", io_errors.join("; "));
        if let Some(u) = unusable_text {
            line += &format!("; also {u}");
        }
        return Err(Failure::usage(line));
    }
    match unusable_text {
        Some(u) => Err(Failure::negative(format!("inspect: {u}"))),
        None => Ok(()),
    }
}

fn parse_page_size(text: &str) -> Result<u32, String> {
    let n = parse_size(text)?;
    match u32::try_from(n) {
        Ok(v) if v.is_power_of_two() && v >= 4096 => Ok(v),
        _ => Err("must be a power of two from 4K to 2G".to_owned()),
    }
}

/// Reads at most the first 8192 bytes of `path` and checks that the length is 4096 or 8192.
fn read_input(path: &str) -> Result<Input, String> {
    let mut bytes = Vec::with_capacity(InfoBlock::HEAD_SIZE);
    let limit = u64::try_from(InfoBlock::HEAD_SIZE).unwrap_or(u64::MAX);
    let name = if path == "-" {
        std::io::stdin()
            .lock()
            .take(limit)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("<stdin>: cannot read: {e}"))?;
        "<stdin>".to_owned()
    } else {
        let meta = std::fs::metadata(path).map_err(|e| format!("{path}: {}", io_text(&e)))?;
        if meta.is_dir() {
            return Err(format!("{path}: is a directory, not a block or image file"));
        }
        let file = std::fs::File::open(path).map_err(|e| format!("{path}: {}", io_text(&e)))?;
        file.take(limit)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{path}: cannot read: {}", io_text(&e)))?;
        path.to_owned()
    };
    let len = bytes.len();
    if len == InfoBlock::SIZE || len == InfoBlock::HEAD_SIZE {
        Ok(Input { name, bytes })
    } else if len < InfoBlock::SIZE {
        Err(format!(
            "{name}: only {len} bytes; need a 4096-byte info-block or a namespace head of at \
             least 8192 bytes"
        ))
    } else {
        Err(format!(
            "{name}: {len} bytes is neither a 4096-byte info-block nor a namespace head of at \
             least 8192 bytes"
        ))
    }
}

/// The ndctl `read-infoblock -j` object (stored values, ndctl's key order) plus our keys.
#[derive(Debug, Serialize)]
struct BlockJson {
    file: String,
    signature: String,
    uuid: String,
    parent_uuid: String,
    flags: u32,
    version: String,
    dataoff: u64,
    npfns: u64,
    mode: i32,
    start_pad: u32,
    end_trunc: u32,
    align: u32,
    page_size: u32,
    page_struct_size: u16,
    checksum_ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_version: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Everything known about one block.
struct Report {
    name: String,
    /// Whether the input was a namespace head (block at 4096) or a bare block.
    head: bool,
    block: InfoBlock,
    /// The model, read without checksum verification; `Err` only for a bad signature.
    info: Result<PfnInfo, ParseError>,
    stored: u64,
    computed: u64,
    /// A pfn/dax/BTT signature found at byte 0 of a head (a hint for misplaced blocks).
    signature_at_0: Option<Signature>,
}

impl Report {
    fn new(input: &Input, options: &ParseOptions) -> Self {
        let head = input.bytes.len() >= InfoBlock::HEAD_SIZE;
        // `read_input` guarantees 4096 or 8192 bytes, so `locate` cannot fail; a zero block
        // stands in should it ever.
        let block = InfoBlock::locate(&input.bytes)
            .cloned()
            .unwrap_or_else(|_| InfoBlock::zeroed());
        let unchecked = ParseOptions {
            verify_checksum: false,
            ..*options
        };
        let info = PfnInfo::parse(&block, &unchecked);
        let signature_at_0 = if head {
            input.bytes.get(..16).and_then(|s| {
                let sig = Signature(s.try_into().ok()?);
                [Signature::PFN, Signature::DAX, Signature::BTT]
                    .contains(&sig)
                    .then_some(sig)
            })
        } else {
            None
        };
        Self {
            name: input.name.clone(),
            head,
            stored: block.checksum.get(),
            computed: block.compute_checksum(),
            block,
            info,
            signature_at_0,
        }
    }

    fn checksum_ok(&self) -> bool {
        self.stored == self.computed
    }

    /// Why the block is unusable, or `None` when it is usable.
    fn unusable_reason(&self) -> Option<&'static str> {
        if self.info.is_err() {
            Some("no pfn/dax info-block signature")
        } else if !self.checksum_ok() {
            Some("checksum mismatch")
        } else {
            None
        }
    }

    /// The ndctl `read-infoblock -j` object (stored values) plus our keys.
    fn json(&self) -> BlockJson {
        let b = &self.block;
        let (min_version, error) = match &self.info {
            Ok(info) => (info.min_version, None),
            Err(e) => (None, Some(e.to_string())),
        };
        BlockJson {
            file: self.name.clone(),
            signature: signature_text(b.signature),
            uuid: b.uuid.to_string(),
            parent_uuid: b.parent_uuid.to_string(),
            flags: b.flags.get(),
            version: b.version().to_string(),
            dataoff: b.dataoff.get(),
            npfns: b.npfns.get(),
            mode: i32::from_le_bytes(b.mode.get().to_le_bytes()),
            start_pad: b.start_pad.get(),
            end_trunc: b.end_trunc.get(),
            align: b.align.get(),
            page_size: b.page_size.get(),
            page_struct_size: b.page_struct_size.get(),
            checksum_ok: self.checksum_ok(),
            min_version,
            error,
        }
    }

    fn human(&self, out: &mut String, options: &ParseOptions) {
        let where_ = if self.head {
            "namespace head (first 8192 bytes read), info-block at byte 4096"
        } else {
            "bare 4096-byte info-block"
        };
        let _ = writeln!(out, "{}: {where_}", self.name);
        let b = &self.block;
        match &self.info {
            Err(e) => {
                line(out, "signature", &format!("\"{}\"", b.signature), "");
                let _ = writeln!(out, "  not an info-block: {e}");
                if let Some(sig) = self.signature_at_0 {
                    let _ = writeln!(
                        out,
                        "  note: \"{}\" found at byte 0: this looks like a bare block followed by \
                         other data; files of 8192 bytes or more are read as a namespace head \
                         with the block at byte 4096",
                        signature_text(sig)
                    );
                }
                self.checksum_lines(out);
                let _ = writeln!(
                    out,
                    "  result: UNUSABLE: no pfn/dax info-block signature (the kernel ignores the \
                     block and uses the namespace raw)"
                );
            }
            Ok(info) => {
                self.fields(out, info, options);
                self.checksum_lines(out);
                if self.checksum_ok() {
                    let _ = writeln!(
                        out,
                        "  result: usable: signature and checksum ok (whether a kernel enables \
                         the namespace is not checked here)"
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "  result: UNUSABLE: checksum mismatch (the kernel ignores the block and \
                         uses the namespace raw)"
                    );
                }
            }
        }
    }

    fn checksum_lines(&self, out: &mut String) {
        let verdict = if self.checksum_ok() { "ok" } else { "MISMATCH" };
        line(
            out,
            "checksum",
            &format!(
                "stored {:#018x}, computed {:#018x}: {verdict}",
                self.stored, self.computed
            ),
            "",
        );
    }

    fn fields(&self, out: &mut String, info: &PfnInfo, options: &ParseOptions) {
        let b = &self.block;
        let v = info.version;
        let kind = match info.kind {
            DeviceKind::Fsdax => "fsdax (nd_pfn): a /dev/pmemN block device with struct pages",
            DeviceKind::Devdax => "devdax (nd_dax): a /dev/daxN.M character device",
        };
        line(out, "signature", &signature_text(b.signature), kind);
        line(
            out,
            "uuid",
            &info.uuid.to_string(),
            "uuid of the pfn/dax device",
        );
        let parent = if info.parent_uuid.is_nil() {
            "uuid of the hosting namespace; nil: a label-less namespace"
        } else {
            "uuid of the hosting namespace (must match it)"
        };
        line(out, "parent_uuid", &info.parent_uuid.to_string(), parent);
        let flags_note = if info.flags == 0 {
            "no flag bits are defined; never read by the kernel"
        } else if v.has_zeroed_padding() {
            "NON-ZERO: no flag bits are defined and v1.3+ writers promise zero; the kernel \
             ignores it"
        } else {
            "non-zero: no flag bits are defined (stale data is possible before v1.3); the \
             kernel ignores it"
        };
        line(out, "flags", &format!("{:#010x}", info.flags), flags_note);
        line(
            out,
            "version",
            &v.to_string(),
            &version_text(v, info, options),
        );
        if let Some(m) = info.min_version {
            line(
                out,
                "min_version",
                &m.to_string(),
                "bytes 88..90: minimum reader version the writer asks for (2019 proposal)",
            );
        }
        line(
            out,
            "dataoff",
            &bytes_text(info.dataoff),
            "offset of the first data byte from the namespace base (+ start_pad)",
        );
        line(
            out,
            "npfns",
            &format!("{} pages", info.npfns),
            "number of data pages (4 KiB units before Linux 5.3, PAGE_SIZE units after)",
        );
        let (mode_name, mode_note) = match info.mode.0 {
            1 => ("RAM, map=mem", "memmap (struct page array) in system RAM"),
            2 => (
                "PMEM, map=dev",
                "memmap stored in the namespace, between the block and dataoff",
            ),
            0 => ("NONE", "refused by every kernel (-ENXIO)"),
            _ => ("unknown", "refused by every kernel (-ENXIO)"),
        };
        line(
            out,
            "mode",
            &format!("{} ({mode_name})", info.mode.0),
            mode_note,
        );

        let defaulted = info.defaulted();
        let fields: [(&str, DefaultedFields, u64, u64, &str, &str); 5] = [
            (
                "start_pad",
                DefaultedFields::START_PAD,
                info.start_pad.into(),
                b.start_pad.get().into(),
                "bytes skipped at the namespace start (legacy, v1.1)",
                "1",
            ),
            (
                "end_trunc",
                DefaultedFields::END_TRUNC,
                info.end_trunc.into(),
                b.end_trunc.get().into(),
                "bytes dropped at the namespace end (v1.1)",
                "1",
            ),
            (
                "align",
                DefaultedFields::ALIGN,
                info.align.into(),
                b.align.get().into(),
                if info.align == 0 {
                    "requested mapping alignment (v1.2); 0: derived from dataoff"
                } else {
                    "requested mapping alignment (v1.2)"
                },
                "2",
            ),
            (
                "page_size",
                DefaultedFields::PAGE_SIZE,
                info.page_size.into(),
                b.page_size.get().into(),
                "page size of the writer (v1.4)",
                "4",
            ),
            (
                "page_struct_size",
                DefaultedFields::PAGE_STRUCT_SIZE,
                info.page_struct_size.into(),
                b.page_struct_size.get().into(),
                "bytes reserved per struct page in the PMEM memmap (v1.4)",
                "4",
            ),
        ];
        for (name, flag, effective, stored, meaning, since) in fields {
            line(out, name, &bytes_text(effective), meaning);
            if defaulted.contains(flag) {
                let source = match name {
                    "page_size" => " (the reader's page size, --page-size)",
                    "align" => " (derive from dataoff)",
                    _ => "",
                };
                let stored_note = if info.min_version.is_some() && name == "page_size" {
                    "bytes 88..90 hold min_version instead".to_owned()
                } else if stored == effective {
                    format!("stored bytes hold {stored} as well")
                } else {
                    format!("stored bytes hold {stored}, ignored")
                };
                let _ = writeln!(
                    out,
                    "  {:18}(minor {} < {since}: not in this version, read as {effective}{source}; \
                     {stored_note})",
                    "", v.minor
                );
            }
        }
        self.padding_lines(out, info);
    }

    /// Notes non-zero bytes in the padding of the block's own layout.
    fn padding_lines(&self, out: &mut String, info: &PfnInfo) {
        let v = info.version;
        let start = match (v.effective_minor(), info.dialect()) {
            (0, _) => 76,
            (1, _) => 84,
            (3, Dialect::MinVersion2019) => 90,
            (2 | 3, _) => 88,
            _ => 94,
        };
        let bytes = zerocopy::IntoBytes::as_bytes(&self.block);
        let pad = bytes.get(start..4088).unwrap_or(&[]);
        let nonzero = pad.iter().filter(|&&x| x != 0).count();
        let text = format!("bytes {start}..4088");
        if nonzero == 0 {
            line(out, "padding", "all zero", &text);
        } else {
            let first = pad.iter().position(|&x| x != 0).unwrap_or(0) + start;
            let why = if v.has_zeroed_padding() {
                "v1.3+ writers promise zero padding: stale or foreign data; the kernel never \
                 checks it"
            } else {
                "writers before v1.3 could leave stale data here; the kernel never checks it"
            };
            line(
                out,
                "padding",
                &if nonzero == 1 {
                    "1 non-zero byte".to_owned()
                } else {
                    format!("{nonzero} non-zero bytes")
                },
                &format!("{text}, first at byte {first}: {why}"),
            );
        }
    }
}

/// One `name  value  meaning` line.
fn line(out: &mut String, name: &str, value: &str, meaning: &str) {
    if meaning.is_empty() {
        let _ = writeln!(out, "  {name:18}{value}");
    } else {
        let _ = writeln!(out, "  {name:18}{value:24}  {meaning}");
    }
}

/// The signature as ndctl prints it: the C string up to the first NUL (lossy UTF-8).
fn signature_text(sig: Signature) -> String {
    let end = sig.0.iter().position(|&b| b == 0).unwrap_or(16);
    String::from_utf8_lossy(&sig.0[..end]).into_owned()
}

/// `18874368 bytes (18 MiB)`, `18874369 bytes (0x1200001)`, `0 bytes`.
fn bytes_text(n: u64) -> String {
    const UNITS: [(u64, &str); 5] = [
        (1 << 50, "PiB"),
        (1 << 40, "TiB"),
        (1 << 30, "GiB"),
        (1 << 20, "MiB"),
        (1 << 10, "KiB"),
    ];
    if n == 0 {
        return "0 bytes".to_owned();
    }
    for (unit, name) in UNITS {
        if n >= unit && n % unit == 0 {
            return format!("{n} bytes ({} {name})", n / unit);
        }
    }
    if n < 1024 {
        format!("{n} bytes")
    } else {
        format!("{n} bytes ({n:#x})")
    }
}

fn version_text(v: Version, info: &PfnInfo, options: &ParseOptions) -> String {
    let mut parts = Vec::new();
    parts.push(
        match v.effective_minor() {
            0 => "v1.0 layout (Linux 4.3)",
            1 => "v1.1 layout (Linux 4.6: start_pad, end_trunc)",
            2 => "v1.2 layout (Linux 4.7/4.8: align)",
            3 => "v1.3 layout (Linux 5.3: flags and padding zero)",
            _ => "v1.4 layout (Linux 5.4+: page_size, page_struct_size)",
        }
        .to_owned(),
    );
    if v.minor > Version::NEWEST_MINOR {
        parts.push(format!(
            "minor {} is newer than any known: read as 4",
            v.minor
        ));
    }
    if v.major != 1 {
        parts.push(format!("major {} (never checked by the kernel)", v.major));
    }
    match (info.dialect(), options.dialect) {
        (Dialect::MinVersion2019, DialectChoice::MinVersion2019) => {
            parts.push("2019 min_version dialect (forced by --dialect)".to_owned());
        }
        (Dialect::MinVersion2019, _) => parts.push(
            "2019 min_version dialect (detected: minor 3 with non-zero bytes 88..90, which \
             upstream v1.3 keeps zero)"
                .to_owned(),
        ),
        (Dialect::Upstream, _) => parts.push("upstream dialect".to_owned()),
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts() {
        assert_eq!(bytes_text(0), "0 bytes");
        assert_eq!(bytes_text(64), "64 bytes");
        assert_eq!(bytes_text(4096), "4096 bytes (4 KiB)");
        assert_eq!(bytes_text(18 << 20), "18874368 bytes (18 MiB)");
        assert_eq!(bytes_text(0x120_0001), "18874369 bytes (0x1200001)");
        assert_eq!(bytes_text(1 << 40), "1099511627776 bytes (1 TiB)");
    }

    #[test]
    fn signature_is_the_c_string() {
        assert_eq!(signature_text(Signature::PFN), "NVDIMM_PFN_INFO");
        assert_eq!(
            signature_text(Signature(*b"NVDIMM_PFN_INFO!")),
            "NVDIMM_PFN_INFO!"
        );
        assert_eq!(signature_text(Signature([0; 16])), "");
    }

    #[test]
    fn page_size_option() {
        assert_eq!(parse_page_size("64K").unwrap(), 65536);
        assert!(parse_page_size("3000").is_err());
        assert!(parse_page_size("2048").is_err());
        assert!(parse_page_size("8G").is_err());
    }
}
