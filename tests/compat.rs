//! The compatibility checker, table-driven: (block, reader) pairs, each naming the FORMAT.md
//! (or NDCTL.md) rule it follows. Blocks are real ndctl output (tests/data/ndctl, provenance in
//! tests/data/README.md) or built here by hand from the writer rules of FORMAT.md §4.

use nvdimm_infoblock::compat::{
    self, check, ClaimedView, Features, FormatVersion, Namespace, Reader, RequiredVersion, Verdict,
    VersionSupport, MIN_VERSION_2019, PFN3_MODE_PMEM, PFN3_MODE_RAM,
};
use nvdimm_infoblock::validate::{self, Outcome, ProbePath};
use nvdimm_infoblock::{
    DeviceKind, Era, Errno, InfoBlock, Mode, PfnInfo, Platform, Profile, Uuid, Version,
};

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
/// Where the harness (and these tests) place the namespace: 4 GiB.
const NS4G: u64 = 0x1_0000_0000;
/// A namespace 64 MiB into a 128 MiB x86_64 memory section, like the pmem/ndctl#76 regions
/// (FORMAT.md §5.2): a v4.6–v5.2 writer pads its start by 64 MiB.
const LEGACY_START: u64 = 0x10_3c00_0000;

fn corpus(name: &str) -> InfoBlock {
    let path = format!("{}/tests/data/ndctl/{name}.bin", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    InfoBlock::locate(&bytes).unwrap().clone()
}

/// The namespace an ndctl corpus block was written for: at 4 GiB, with its parent uuid.
fn ns_for(block: &InfoBlock, start: u64, size: u64) -> Namespace {
    Namespace {
        start,
        size,
        uuid: block.parent_uuid,
    }
}

fn info(kind: DeviceKind, version: Version, dataoff: u64, npfns: u64, mode: Mode) -> PfnInfo {
    PfnInfo {
        kind,
        uuid: Uuid([0x11; 16]),
        parent_uuid: Uuid::NIL,
        flags: 0,
        version,
        dataoff,
        npfns,
        mode,
        start_pad: 0,
        end_trunc: 0,
        align: 0,
        page_size: 4096,
        page_struct_size: 64,
        min_version: None,
    }
}

fn emit(i: &PfnInfo) -> InfoBlock {
    i.to_block().unwrap()
}

/// FORMAT.md §2.3 vector D: the v1.2 block a 4.15–5.2 kernel writes for a 1 GiB map=dev
/// namespace whose start collides with System RAM (start_pad 64 MiB), align 2 MiB. npfns0 =
/// (1G - 64M - 8K)/4K rounded up to a section = 229376; dataoff = ALIGN_UP(8K + 64·229376, 2M)
/// = 16M... the vector records 0x1200000 (18 MiB, with the 4.10–5.0 memmap padding), kept as is.
fn legacy_d(kind: DeviceKind) -> InfoBlock {
    let mut i = info(kind, Version::V1_2, 0x120_0000, 0x3_ae00, Mode::PMEM);
    i.start_pad = 0x400_0000;
    i.align = 0x20_0000;
    emit(&i)
}

/// The same namespace written with map=mem (§4.5 RAM: dataoff = ALIGN_UP(start' + 8K, 2M) -
/// start' = 2 MiB), v1.2.
fn legacy_mem() -> InfoBlock {
    let mut i = info(
        DeviceKind::Fsdax,
        Version::V1_2,
        2 * MIB,
        0x3_be00,
        Mode::RAM,
    );
    i.start_pad = 0x400_0000;
    i.align = 0x20_0000;
    emit(&i)
}

/// A v4.6 (v1.1) writer's map=mem block with start_pad and end_trunc of 64 MiB each (§4.3):
/// dataoff = ALIGN_UP(start' + 8K, 2M) - start' = 2 MiB, npfns = (1G - 2M - 128M) / 4K.
fn legacy_v11() -> InfoBlock {
    let mut i = info(
        DeviceKind::Fsdax,
        Version::V1_1,
        2 * MIB,
        (GIB - 2 * MIB - 128 * MIB) / 4096,
        Mode::RAM,
    );
    i.start_pad = 0x400_0000;
    i.end_trunc = 0x400_0000;
    emit(&i)
}

fn legacy_ns() -> Namespace {
    Namespace::labelless(LEGACY_START, GIB)
}

/// [`legacy_d`] converted to the 2019 v1.3 by the planner.
fn d2019() -> InfoBlock {
    compat::plan_upgrade(
        &legacy_d(DeviceKind::Fsdax),
        &legacy_ns(),
        FormatVersion::V2019_1_3,
    )
    .unwrap()
    .block
}

/// A 2019 v1.3 block that kept the upstream mode value (so old kernels do not fail on it):
/// what the proposal avoided by changing the modes.
fn d2019_upstream_mode() -> InfoBlock {
    let mut b = d2019();
    b.mode.set(2);
    b.update_checksum();
    b
}

/// v1.0 map=dev 1 GiB with ndctl's 18 MiB dataoff (a relabelled fsdax-1G-default).
fn v10_dataoff_18m() -> InfoBlock {
    emit(&info(
        DeviceKind::Fsdax,
        Version::V1_0,
        18 * MIB,
        0x3_ee00,
        Mode::PMEM,
    ))
}

/// v1.0 map=mem, dataoff 2 MiB (a power of two), 1 GiB.
fn v10_mem() -> InfoBlock {
    emit(&info(
        DeviceKind::Fsdax,
        Version::V1_0,
        2 * MIB,
        0x3_fe00,
        Mode::RAM,
    ))
}

/// A v1.0 block with stored fields its version lacks: bytes set after emit (which writes only
/// the version's fields), then the checksum recomputed.
fn v10_with(f: impl FnOnce(&mut InfoBlock)) -> InfoBlock {
    let mut b = v10_mem();
    f(&mut b);
    b.update_checksum();
    b
}

/// Kata's nsdax image builder (NDCTL.md §6): PFN signature, version 0.2, RAM mode, dataoff =
/// align = 2 MiB, uuid/parent/npfns zero.
fn kata() -> InfoBlock {
    let mut i = info(DeviceKind::Fsdax, Version::new(0, 2), 2 * MIB, 0, Mode::RAM);
    i.uuid = Uuid::NIL;
    i.align = 0x20_0000;
    emit(&i)
}

/// A v1.4 map=dev block written by a 64 KiB-page kernel for 1 GiB: npfns0 = (1G-8K)/64K =
/// 16383, memmap 64·16383 B, dataoff = ALIGN_UP(8K + 1 MiB, 2M) = 2 MiB, npfns = 16352 (§4.6).
fn page64k() -> InfoBlock {
    let mut i = info(
        DeviceKind::Fsdax,
        Version::V1_4,
        2 * MIB,
        (GIB - 2 * MIB) / (64 * KIB),
        Mode::PMEM,
    );
    i.align = 0x20_0000;
    i.page_size = 64 * 1024;
    emit(&i)
}

/// The same namespace written with map=mem by a 64 KiB-page kernel: dataoff 2 MiB, npfns in
/// 64 KiB pages.
fn page64k_mem() -> InfoBlock {
    let mut b = page64k();
    b.mode.set(1);
    b.update_checksum();
    b
}

/// A v1.4 map=dev block from Linux 6.1–6.2 (MAX_STRUCT_PAGE_SIZE 128, §7.5) for 1 GiB:
/// npfns0 = 262142, page_map = 128·262142, dataoff = ALIGN_UP(8K + page_map, 2M) = 34 MiB,
/// npfns = (1G - 34M)/4K = 253440.
fn pss(page_struct_size: u16) -> InfoBlock {
    let mut i = info(
        DeviceKind::Fsdax,
        Version::V1_4,
        34 * MIB,
        (GIB - 34 * MIB) / 4096,
        Mode::PMEM,
    );
    i.align = 0x20_0000;
    i.page_struct_size = page_struct_size;
    emit(&i)
}

/// A v1.2 block (4.15 writer, no legacy padding) whose bytes 88..94 hold stale non-zero bytes
/// from an earlier block (§7.6: before v5.3 the buffer was not cleared).
fn stale_v12() -> InfoBlock {
    let mut i = info(
        DeviceKind::Fsdax,
        Version::V1_2,
        18 * MIB,
        0x3_ee00,
        Mode::PMEM,
    );
    i.align = 0x20_0000;
    let mut b = emit(&i);
    b.page_size.set(0xdead_beef);
    b.update_checksum();
    b
}

const fn k(era: Era) -> Reader {
    Reader::Kernel(Profile::new(era, Platform::X86_64))
}

const NEWEST: Reader = k(Era::V6_5);

/// What a row expects.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Loads (no caveat), optionally with (data_start, data_size).
    Loads(Option<(u64, u64)>),
    /// Degraded with this caveat among its caveats, optionally with (data_start, data_size).
    Degraded(&'static str, Option<(u64, u64)>),
    /// Ignored with this reason token (None: any).
    Ignored(Option<&'static str>),
    /// Refused with this reason token.
    Refused(&'static str),
}

struct Row {
    rule: &'static str,
    block: fn() -> InfoBlock,
    ns: fn(&InfoBlock) -> Namespace,
    reader: Reader,
    expect: Expect,
}

fn ns1g(b: &InfoBlock) -> Namespace {
    ns_for(b, NS4G, GIB)
}
fn ns256m(b: &InfoBlock) -> Namespace {
    ns_for(b, NS4G, 256 * MIB)
}
fn legacy(_: &InfoBlock) -> Namespace {
    legacy_ns()
}

macro_rules! row {
    ($rule:expr, $block:expr, $ns:expr, $reader:expr, $expect:expr) => {
        Row {
            rule: $rule,
            block: $block,
            ns: $ns,
            reader: $reader,
            expect: $expect,
        }
    };
}

use Expect::{Degraded, Ignored, Loads, Refused};

fn rows() -> Vec<Row> {
    let default = || corpus("fsdax-1G-default");
    let mapmem = || corpus("fsdax-1G-mapmem");
    let d_pfn = || legacy_d(DeviceKind::Fsdax);
    let d_dax = || legacy_d(DeviceKind::Devdax);
    // Data start of the legacy namespace as Linux block I/O sees it: start + start_pad +
    // dataoff (§5.2); size = size - start_pad - end_trunc - dataoff.
    let d_data = Some((
        LEGACY_START + 0x400_0000 + 0x120_0000,
        GIB - 0x400_0000 - 0x120_0000,
    ));
    vec![
        // --- ndctl corpus, read by every kind of reader -------------------------------------
        row!("§3.7, §4.6 worked example: 6.5 enables the ndctl default block", default, ns1g, NEWEST,
            Loads(Some((NS4G + 18 * MIB, GIB - 18 * MIB)))),
        row!("§3.4: 4.15 absolute offset check passes (18M is 2M aligned)", default, ns1g, k(Era::V4_15),
            Loads(Some((NS4G + 18 * MIB, GIB - 18 * MIB)))),
        row!("§3.2: 4.6 requires a power-of-two dataoff (18M is not) -> ENXIO, raw", default, ns1g,
            k(Era::V4_6), Ignored(Some("dataoff_not_power_of_two"))),
        row!("§3.1: 4.3 has no PMEM mode (-ENOTTY)", default, ns1g, k(Era::V4_3),
            Ignored(Some("pmem_mode_unsupported"))),
        row!("NDCTL.md §3: read-infoblock -V checks only the checksum", default, ns1g, Reader::Ndctl,
            Loads(Some((NS4G + 18 * MIB, GIB - 18 * MIB)))),
        row!("§1.5: a dataoff-only driver reads at start + dataoff", default, ns1g, Reader::DataoffOnly,
            Loads(Some((NS4G + 18 * MIB, GIB - 18 * MIB)))),
        row!("§1.5 choice: no min_version in a v1.4 layout -> needs its own minor 4 > 2", default,
            ns1g, Reader::MinVersion(2), Refused("min_version")),
        row!("§1.5 choice: a level-3 reader refuses a v1.4 layout", default, ns1g, Reader::MinVersion(3),
            Refused("min_version")),
        row!("§1.5 choice: level 4 = a current kernel honouring min_version", default, ns1g,
            Reader::MinVersion(4), Loads(Some((NS4G + 18 * MIB, GIB - 18 * MIB)))),
        row!("§3.7, §4.6 RAM layout: map=mem dataoff 2M", mapmem, ns1g, NEWEST,
            Loads(Some((NS4G + 2 * MIB, GIB - 2 * MIB)))),
        row!("§3.2: 4.6 accepts a power-of-two dataoff (2M)", mapmem, ns1g, k(Era::V4_6),
            Loads(Some((NS4G + 2 * MIB, GIB - 2 * MIB)))),
        row!("§3.6: devdax align 4K is in the x86_64 supported list", || corpus("devdax-1G-a4K"), ns1g,
            NEWEST, Loads(Some((NS4G + 18 * MIB, GIB - 18 * MIB)))),
        row!("§3.7 step 19: 6.5 refuses a layout with no data (bad offset with small namespace)",
            || corpus("fsdax-2G-12K-a1G"), |b| ns_for(b, NS4G, 2 * GIB - 12 * KIB), NEWEST,
            Refused("small_namespace")),
        row!("§3.7 step 17: start + start_pad (ns at 4G, -O 1M) not 2M aligned", || corpus("fsdax-1G-a2M-off1M"),
            ns1g, NEWEST, Refused("resource_start_misaligned")),
        row!("NDCTL.md §2: ndctl's -O dataoff counts from the raw base; a kernel adds start_pad",
            || corpus("fsdax-1G-a4K-off8K"), |b| ns_for(b, NS4G + 8 * KIB, GIB), Reader::DataoffOnly,
            Degraded("misplaced_data", Some((NS4G + 8 * KIB + 18_866_176, GIB - 18_866_176)))),
        row!("NDCTL.md §5 align.sh: -a 4K -O 8K is accepted; with start_pad, fsdax DAX is off by §5.2", || corpus("fsdax-1G-a4K-off8K"),
            |b| ns_for(b, NS4G + 8 * KIB, GIB), NEWEST,
            Degraded("dax_pfn_mismatch", Some((NS4G + 8 * KIB + 2_088_960 + 18_866_176, GIB - 2_088_960 - 8 * KIB - 18_866_176)))),
        row!("§2.2: a flipped checksum bit -> ENODEV, raw", || corpus("bad/csum-flip-lsb"), ns1g, NEWEST,
            Ignored(Some("checksum_mismatch"))),
        row!("NDCTL.md §3: -V drops a block with a bad checksum", || corpus("bad/csum-flip-lsb"), ns1g,
            Reader::Ndctl, Ignored(Some("checksum_mismatch"))),
        row!("§1.5: even a dataoff-only driver checks the checksum", || corpus("bad/csum-flip-lsb"), ns1g,
            Reader::DataoffOnly, Ignored(Some("checksum_mismatch"))),
        row!("§1.2: the signature is compared over 16 bytes, NUL included", || corpus("bad/sig-no-nul"),
            ns1g, Reader::Ndctl, Ignored(Some("bad_signature"))),
        row!("§1.2: lower-case signature is not recognised", || corpus("bad/sig-lowercase"), ns1g,
            Reader::DataoffOnly, Ignored(Some("bad_signature"))),
        row!("NDCTL.md §3: version 1.10 needs 4 characters, ndctl drops it", || corpus("bad/v1.10"), ns1g,
            Reader::Ndctl, Refused("version_unprintable")),
        row!("§1.4: no upper bound on the minor: 1.10 is read as 1.4", || corpus("bad/v1.10"), ns1g,
            NEWEST, Loads(None)),
        row!("NDCTL.md §3: 10.0 cannot be printed either", || corpus("bad/v10.0"), ns1g, Reader::Ndctl,
            Refused("version_unprintable")),
        row!("§3.7 step 8: mode 3 -> ENXIO, raw", || corpus("bad/mode3"), ns1g, NEWEST,
            Ignored(Some("unknown_mode"))),
        row!("§1.5: a dataoff-only driver ignores the mode", || corpus("bad/mode3"), ns1g,
            Reader::DataoffOnly, Loads(Some((NS4G + 18 * MIB, GIB - 18 * MIB)))),
        row!("NDCTL.md §3: ndctl does not check the mode", || corpus("bad/mode3"), ns1g, Reader::Ndctl,
            Loads(None)),
        row!("§1.4: npfns is never validated; PMEM mode recomputes it (harness NOTE)",
            || corpus("bad/npfns-huge"), ns1g, NEWEST, Degraded("npfns_truncated", None)),
        row!("§3.7 step 6: a foreign parent uuid -> ENODEV, raw", || corpus("fsdax-1G-a2M-parent"),
            |b| Namespace { uuid: Uuid::NIL, ..ns1g(b) }, NEWEST, Ignored(Some("parent_uuid_mismatch"))),
        row!("NDCTL.md §3: file mode never checks the parent uuid", || corpus("fsdax-1G-a2M-parent"),
            |b| Namespace { uuid: Uuid::NIL, ..ns1g(b) }, Reader::Ndctl, Loads(None)),
        row!("§1.4: flags are never checked (v1.4 block with flags 1)", || corpus("bad/flags-1"), ns1g,
            NEWEST, Loads(None)),
        // --- legacy start_pad layouts (v4.6–v5.2 writers) ------------------------------------
        row!("§5.2: fsdax with start_pad: block I/O at start+start_pad+dataoff, DAX pfn wrong", d_pfn,
            legacy, NEWEST, Degraded("dax_pfn_mismatch", d_data)),
        row!("§5.2 + §3.4: 4.15 reads the same layout, same DAX bug", d_pfn, legacy, k(Era::V4_15),
            Degraded("dax_pfn_mismatch", d_data)),
        row!("§5.2 + §3.3: 4.7 too (live align 2M divides 18M)", d_pfn, legacy, k(Era::V4_7),
            Degraded("dax_pfn_mismatch", d_data)),
        row!("§3.2: 4.6 refuses dataoff 18M (not a power of two)", d_pfn, legacy, k(Era::V4_6),
            Ignored(Some("dataoff_not_power_of_two"))),
        row!("§3.1: 4.3 requires a section-aligned start", d_pfn, legacy, k(Era::V4_3), Ignored(None)),
        row!("§5.3: ndctl's dataoff convention (raw base) misplaces a kernel-written legacy block",
            d_pfn, legacy, Reader::Ndctl, Degraded("misplaced_data", None)),
        row!("§5.3: a dataoff-only driver reads start_pad bytes too early",
            d_pfn, legacy, Reader::DataoffOnly,
            Degraded("misplaced_data", Some((LEGACY_START + 0x120_0000, GIB - 0x120_0000)))),
        row!("§1.5: a level-2 reader (patch 4/7 only) still has the §5.2 DAX bug", d_pfn, legacy,
            Reader::MinVersion(2), Degraded("dax_pfn_mismatch", d_data)),
        row!("§5.3 choice: level 3 has the map_base fix, so legacy blocks load cleanly", d_pfn, legacy,
            Reader::MinVersion(3), Loads(d_data)),
        row!("§5.3 choice: level 4 as well", d_pfn, legacy, Reader::MinVersion(4), Loads(d_data)),
        row!("§6.1: devdax maps from the adjusted base: no DAX pfn bug", d_dax, legacy, NEWEST,
            Loads(d_data)),
        row!("§5.2: map=mem with dataoff < start_pad: DAX disabled", || legacy_mem(), legacy, NEWEST,
            Degraded("dax_disabled", Some((LEGACY_START + 0x400_0000 + 2 * MIB, GIB - 0x400_0000 - 2 * MIB)))),
        row!("§5.2 + §3.2: 4.6 loads its own v1.1 map=mem block, DAX disabled", || legacy_v11(), legacy,
            k(Era::V4_6), Degraded("dax_disabled", Some((LEGACY_START + 0x400_0000 + 2 * MIB, GIB - 128 * MIB - 2 * MIB)))),
        row!("§3.7 steps 17-18: 6.5 honours start_pad/end_trunc when both ends are 2M aligned",
            || legacy_v11(), legacy, NEWEST, Degraded("dax_disabled", Some((LEGACY_START + 0x400_0000 + 2 * MIB, GIB - 128 * MIB - 2 * MIB)))),
        row!("§5.3: a dataoff-only driver runs past end_trunc", || legacy_v11(), legacy, Reader::DataoffOnly,
            Degraded("end_trunc_ignored", None)),
        // --- the 2019 dialect ------------------------------------------------------------------
        row!("§1.5: PFN3_MODE_* makes upstream kernels fail (-ENXIO, raw)", d2019, legacy, NEWEST,
            Ignored(Some("unknown_mode"))),
        row!("§1.5: ... every era", d2019, legacy, k(Era::V4_15), Ignored(Some("unknown_mode"))),
        row!("§1.5: ... 6.1 too", d2019, legacy, k(Era::V6_1), Ignored(Some("unknown_mode"))),
        row!("§1.5: version >= min_version is required (needs 1.3, supports 1.2)", d2019, legacy,
            Reader::MinVersion(2), Refused("min_version")),
        row!("§5.3: level 3 reads dataoff from the raw base: same data as before the upgrade", d2019,
            legacy, Reader::MinVersion(3), Loads(d_data)),
        row!("§5.3: level 4 as well", d2019, legacy, Reader::MinVersion(4), Loads(d_data)),
        row!("§5.3: the EFI view: data at start + dataoff, now where Linux put it", d2019, legacy,
            Reader::DataoffOnly, Loads(Some((LEGACY_START + 0x520_0000, GIB - 0x520_0000)))),
        row!("§5.3: without PFN3 modes an old kernel adds start_pad again and misreads", d2019_upstream_mode,
            legacy, NEWEST, Degraded("start_pad_added_twice",
                Some((LEGACY_START + 0x400_0000 + 0x520_0000, GIB - 0x400_0000 - 0x520_0000)))),
        row!("NDCTL.md §3: ndctl prints a 2019 block (version 1.3, checksum ok)", d2019, legacy,
            Reader::Ndctl, Loads(d_data)),
        // --- v1.0 blocks: align derived from dataoff ----------------------------------------
        row!("§3.7 step 9 + 16: v1.0 dataoff 18M derives align 16M: bad offset", v10_dataoff_18m, ns1g,
            NEWEST, Refused("bad_offset")),
        row!("§3.4: the same before 5.7 is -ENXIO: raw", v10_dataoff_18m, ns1g, k(Era::V4_15),
            Ignored(Some("bad_offset"))),
        row!("§3.3: 4.7 checks the live 2M align instead: loads", v10_dataoff_18m, ns1g, k(Era::V4_7),
            Loads(Some((NS4G + 18 * MIB, GIB - 18 * MIB)))),
        row!("§3.7 step 9: v1.0 dataoff 2M (a power of two) derives align 2M", v10_mem, ns1g, NEWEST,
            Loads(Some((NS4G + 2 * MIB, GIB - 2 * MIB)))),
        row!("§3.2: 4.6 loads a v1.0 power-of-two dataoff", v10_mem, ns1g, k(Era::V4_6), Loads(None)),
        row!("§3.7 step 7: v1.0 end_trunc is read as 0 (the data runs to the namespace end)",
            || v10_with(|b| b.end_trunc.set(0x20_0000)), ns1g, NEWEST,
            Degraded("fields_defaulted", Some((NS4G + 2 * MIB, GIB - 2 * MIB)))),
        row!("NDCTL.md §3: ndctl prints a v1.0 block's end_trunc as stored", || v10_with(|b| b.end_trunc.set(0x20_0000)),
            ns1g, Reader::Ndctl, Degraded("shows_unmasked_fields", Some((NS4G + 2 * MIB, GIB - 4 * MIB)))),
        row!("§1.5: a dataoff-only driver never read end_trunc of a v1.0 block", || v10_with(|b| b.end_trunc.set(0x20_0000)),
            ns1g, Reader::DataoffOnly, Loads(Some((NS4G + 2 * MIB, GIB - 2 * MIB)))),
        row!("§3.7 step 7: a v1.0 start_pad is read as 0: the data starts at start + dataoff",
            || v10_with(|b| b.start_pad.set(0x400_0000)), ns1g, NEWEST,
            Degraded("fields_defaulted", Some((NS4G + 2 * MIB, GIB - 2 * MIB)))),
        row!("NDCTL.md §3: ndctl shows the v1.0 start_pad but (like the kernel) reads from start + dataoff",
            || v10_with(|b| b.start_pad.set(0x400_0000)), ns1g, Reader::Ndctl,
            Degraded("shows_unmasked_fields", Some((NS4G + 2 * MIB, GIB - 2 * MIB)))),
        row!("§3.7 step 7: a v1.0 align is read as 0 and derived", || v10_with(|b| b.align.set(0x1000)),
            ns1g, NEWEST, Degraded("fields_defaulted", None)),
        // --- Kata v0.2 RAM block, npfns 0 (NDCTL.md §6) -------------------------------------
        row!("NDCTL.md §6: major is never checked, RAM mode takes npfns 0 from the block", kata, ns256m,
            NEWEST, Loads(Some((NS4G + 2 * MIB, 256 * MIB - 2 * MIB)))),
        row!("§3.1: 4.3 loads RAM mode on a section-aligned start", kata, ns256m, k(Era::V4_3), Loads(None)),
        row!("NDCTL.md §6: read-infoblock -j -V accepts 0.2", kata, ns256m, Reader::Ndctl, Loads(None)),
        row!("§1.5: dataoff-only reads Kata's 2M offset", kata, ns256m, Reader::DataoffOnly,
            Loads(Some((NS4G + 2 * MIB, 256 * MIB - 2 * MIB)))),
        row!("§1.5 choice: minor 2 has no min_version", kata, ns256m, Reader::MinVersion(2), Loads(None)),
        // --- 64 KiB pages -------------------------------------------------------------------
        row!("§3.6: 4K kernels refuse a 64K map=dev block (page size mismatch)", page64k, ns1g, NEWEST,
            Refused("page_size_mismatch")),
        row!("§7.2 + §5.1: 5.3 has no page size check; the memmap sized for 64K pages does not fit",
            page64k, ns1g, k(Era::V5_3), Refused("memmap_does_not_fit")),
        row!("§3.6: only map=dev checks page_size: a 4K kernel loads a 64K map=mem block",
            page64k_mem, ns1g, NEWEST, Loads(Some((NS4G + 2 * MIB, GIB - 2 * MIB)))),
        row!("§3.6: a 64K kernel loads its own map=mem block", page64k_mem, ns1g,
            Reader::Kernel(Profile::new(Era::V6_5, Platform::PPC64_RADIX)), Loads(Some((NS4G + 2 * MIB, GIB - 2 * MIB)))),
        row!("§7.2: and back: a 4K map=mem block on a 64K kernel (dataoff 2M % 64K == 0)", mapmem, ns1g,
            Reader::Kernel(Profile::new(Era::V6_5, Platform::PPC64_RADIX)), Loads(Some((NS4G + 2 * MIB, GIB - 2 * MIB)))),
        row!("§7.2 + §3.7 step 16: a 4K-granular dataoff fails dataoff % PAGE_SIZE on a 64K kernel",
            || corpus("fsdax-1G-a4K-off8K"), |b| ns_for(b, NS4G + 8 * KIB, GIB),
            Reader::Kernel(Profile::new(Era::V6_5, Platform::PPC64_RADIX)), Refused("bad_offset")),
        row!("NDCTL.md §3: ndctl decodes page_size without judging it", page64k, ns1g, Reader::Ndctl,
            Loads(None)),
        // --- page_struct_size 128 (Linux 6.1–6.2) --------------------------------------------
        row!("§7.5: a 6.1 block (128 B/page) is valid; 64 B/page readers lose the difference",
            || pss(128), ns1g, NEWEST, Degraded("capacity_lost", Some((NS4G + 34 * MIB, GIB - 34 * MIB)))),
        row!("§7.5: 6.1 itself (64-byte struct page without KMSAN) also loses it", || pss(128), ns1g,
            k(Era::V6_1), Degraded("capacity_lost", None)),
        row!("§1.4: 4.15 predates page_struct_size and ignores the version", || pss(128), ns1g,
            k(Era::V4_15), Degraded("fields_unknown", Some((NS4G + 34 * MIB, GIB - 34 * MIB)))),
        row!("§1.5 choice: a level-3 reader refuses a v1.4 layout", || pss(128), ns1g,
            Reader::MinVersion(3), Refused("min_version")),
        row!("§3.6: page_struct_size 32 < sizeof(struct page)", || pss(32), ns1g, NEWEST,
            Refused("struct_page_size_mismatch")),
        // --- stale padding before v1.3 ----------------------------------------------------------
        row!("§7.6: stale bytes 88..94 in a v1.2 block are shown by ndctl", stale_v12, ns1g,
            Reader::Ndctl, Degraded("stale_padding", None)),
        row!("§1.4: the kernel never reads the padding", stale_v12, ns1g, NEWEST,
            Loads(Some((NS4G + 18 * MIB, GIB - 18 * MIB)))),
        row!("§1.5 choice: below minor 3 a level-2 reader does not trust byte 88", stale_v12, ns1g,
            Reader::MinVersion(2), Loads(None)),
    ]
}

fn assert_row(i: usize, row: &Row) {
    let block = (row.block)();
    let ns = (row.ns)(&block);
    let verdict = check(&block, &ns, &row.reader);
    let ctx = format!(
        "row {i} [{}] reader {}: got {verdict:?}",
        row.rule,
        row.reader.name()
    );
    let data = |want: Option<(u64, u64)>| {
        if let Some((start, size)) = want {
            let v = verdict.view().unwrap();
            assert_eq!((v.data_start, v.data_size), (start, size), "{ctx}");
        }
    };
    match row.expect {
        Loads(want) => {
            assert!(matches!(verdict, Verdict::Loads(_)), "{ctx}");
            data(want);
        }
        Degraded(caveat, want) => {
            assert!(matches!(verdict, Verdict::LoadsDegraded(..)), "{ctx}");
            assert!(
                verdict.caveats().iter().any(|c| c.token() == caveat),
                "{ctx}: no caveat {caveat}"
            );
            data(want);
        }
        Ignored(token) => {
            assert!(matches!(verdict, Verdict::Ignored(_)), "{ctx}");
            if let Some(token) = token {
                assert_eq!(verdict.reason().unwrap().token(), token, "{ctx}");
            }
        }
        Refused(token) => {
            assert!(matches!(verdict, Verdict::Refused(_)), "{ctx}");
            assert_eq!(verdict.reason().unwrap().token(), token, "{ctx}");
        }
    }
}

#[test]
fn table_of_block_reader_pairs() {
    let rows = rows();
    assert!(rows.len() >= 60, "only {} rows", rows.len());
    for (i, row) in rows.iter().enumerate() {
        assert_row(i, row);
    }
    // Every reader of the matrix appears in the table.
    for reader in Reader::KNOWN {
        if matches!(reader, Reader::Kernel(p) if !matches!(p.era, Era::V4_3 | Era::V4_6 | Era::V4_7 | Era::V4_15 | Era::V5_3 | Era::V6_1 | Era::V6_5))
        {
            continue; // linux-5.1, 5.4, 5.7, 6.3 share their neighbours' rules for these blocks.
        }
        assert!(
            rows.iter().any(|r| r.reader == reader),
            "reader {} not covered",
            reader.name()
        );
    }
    // Every feature appears in some row's block.
    let mut seen = Features::empty();
    for row in &rows {
        seen |= Features::of_block(&(row.block)());
    }
    assert_eq!(
        seen,
        Features::all(),
        "features not covered: {:?}",
        Features::all() - seen
    );
}

// --- required_version and the claimed view ----------------------------------------------

#[test]
fn required_version_explains_itself() {
    // §1.3: start_pad/end_trunc came with 1.1, align with 1.2.
    let r = RequiredVersion::of_block(&legacy_d(DeviceKind::Fsdax));
    assert_eq!(r.version, Some(FormatVersion::V1_2));
    assert_eq!(r.to_string(), "1.2: start_pad needs 1.1, align needs 1.2");
    // ndctl's default block: nothing beyond what the derived align gives? align 2M != 16M.
    let r = RequiredVersion::of_block(&corpus("fsdax-1G-default"));
    assert_eq!(r.version, Some(FormatVersion::V1_2));
    // Kata: align 2M equals the one derived from dataoff 2M -> nothing needed beyond 1.0.
    let r = RequiredVersion::of_block(&kata());
    assert_eq!(r.version, Some(FormatVersion::V1_0));
    assert_eq!(r.to_string(), "1.0: no feature beyond v1.0");
    // §1.3 v1.4: page_struct_size 128.
    let r = RequiredVersion::of_block(&pss(128));
    assert_eq!(r.version, Some(FormatVersion::V1_4));
    assert!(r.to_string().contains("page_struct_size needs 1.4"));
    // 64K pages: page_size (1.4) and the npfns unit (1.3).
    let f = Features::of_block(&page64k());
    assert!(f.contains(Features::PAGE_SIZE | Features::NPFNS_IN_PAGES));
    // The 2019 dialect.
    let r = RequiredVersion::of_block(&d2019());
    assert_eq!(r.version, Some(FormatVersion::V2019_1_3));
    assert!(r
        .features
        .contains(Features::MIN_VERSION | Features::RAW_BASE_DATAOFF));
    assert!(r.to_string().contains("min_version needs 2019-1.3"));
}

#[test]
fn v14_and_2019_features_cannot_be_combined() {
    let r = RequiredVersion::of(Features::PAGE_STRUCT_SIZE | Features::MIN_VERSION);
    assert_eq!(r.version, None);
    assert!(r.to_string().starts_with("none"));
}

#[test]
fn format_version_inclusion() {
    use FormatVersion as V;
    assert!(V::V1_4.includes(V::V1_1));
    assert!(!V::V1_1.includes(V::V1_2));
    assert!(V::V2019_1_3.includes(V::V1_3));
    assert!(!V::V2019_1_3.includes(V::V1_4));
    assert!(!V::V1_4.includes(V::V2019_1_3));
    for v in V::ALL {
        assert_eq!(V::from_name(v.name()), Some(v));
    }
    assert_eq!(V::from_name("1.5"), None);
}

#[test]
fn claimed_view_says_what_a_v10_reader_sees() {
    // The example: v1.0 with a non-zero end_trunc; readers zero it (§3.7 step 7).
    let b = v10_with(|b| b.end_trunc.set(0x20_0000));
    let v = ClaimedView::of_block(&b);
    assert!(!v.is_faithful());
    assert_eq!(v.dropped, Features::END_TRUNC);
    assert_eq!(v.required.version, Some(FormatVersion::V1_1));
    let text = v.to_string();
    assert!(text.contains("reads end_trunc 2097152 as 0"), "{text}");
    assert!(text.contains("grows by 2097152 bytes"), "{text}");
    // And a faithful block says so.
    assert!(ClaimedView::of_block(&pss(128)).is_faithful());
}

#[test]
fn min_version_refusal_message() {
    let v = check(&d2019(), &legacy_ns(), &Reader::MinVersion(2));
    assert_eq!(
        v.reason().unwrap().to_string(),
        "version >= min_version is required: the block needs 1.3, this reader supports 1.2"
    );
    // Choice (FORMAT.md §1.5): -EOPNOTSUPP, the errno that keeps the namespace disabled.
    assert_eq!(v.reason().unwrap().errno(), Some(Errno::EOPNOTSUPP));
    assert_eq!(Errno::EOPNOTSUPP.code(), -95);
    // Upstream kernels meet the PFN3 mode at the mode check: -ENXIO (FORMAT.md §3.7 step 8).
    let v = check(&d2019(), &legacy_ns(), &NEWEST);
    assert_eq!(v.reason().unwrap().errno(), Some(Errno::ENXIO));
}

#[test]
fn the_2019_block_on_media() {
    // Choices (FORMAT.md §1.5 UNCONFIRMED): PFN3_MODE_RAM = 3, PFN3_MODE_PMEM = 4, min_version
    // 3 at byte 88, minor 3, dataoff counted from the raw base (old dataoff + start_pad).
    let b = d2019();
    assert_eq!(b.version(), Version::V1_3);
    assert_eq!(b.mode(), PFN3_MODE_PMEM);
    assert_eq!(PFN3_MODE_RAM, Mode(3));
    assert_eq!(b.raw_min_version(), MIN_VERSION_2019);
    assert_eq!(MIN_VERSION_2019, 3);
    assert_eq!(b.dataoff.get(), 0x120_0000 + 0x400_0000);
    assert_eq!(b.start_pad.get(), 0x400_0000);
    let bytes = zerocopy::IntoBytes::as_bytes(&b);
    assert_eq!(&bytes[88..90], &[3, 0]);
    assert!(bytes[90..4088].iter().all(|&x| x == 0));
}

#[test]
fn reader_names_are_stable() {
    let names: Vec<String> = Reader::KNOWN.iter().map(|r| r.name().to_string()).collect();
    assert_eq!(
        names,
        [
            "linux-4.3",
            "linux-4.6",
            "linux-4.7",
            "linux-4.15",
            "linux-5.1",
            "linux-5.3",
            "linux-5.4",
            "linux-5.7",
            "linux-6.1",
            "linux-6.3",
            "linux-6.5",
            "ndctl",
            "dataoff-only",
            "min-version-2",
            "min-version-3",
            "min-version-4"
        ]
    );
    for r in Reader::KNOWN {
        assert_eq!(Reader::from_name(&r.name().to_string()), Some(r));
    }
    assert_eq!(
        Reader::KNOWN[0].version_support(),
        VersionSupport::IgnoresVersion
    );
    assert_eq!(
        Reader::MinVersion(3).version_support(),
        VersionSupport::Declares(3)
    );
}

// --- upgrades ---------------------------------------------------------------------------------

#[test]
fn legacy_start_pad_to_2019_keeps_the_data_and_makes_old_readers_refuse() {
    let ns = legacy_ns();
    let plan =
        compat::plan_upgrade(&legacy_d(DeviceKind::Fsdax), &ns, FormatVersion::V2019_1_3).unwrap();
    // §5.2: Linux block I/O puts the first data byte at start + start_pad + dataoff.
    let first = LEGACY_START + 0x400_0000 + 0x120_0000;
    assert_eq!(plan.before.data_start, Some(first));
    assert_eq!(plan.after.data_start, Some(first));
    assert_eq!(plan.before.data_size, plan.after.data_size);
    assert_eq!(plan.after.dataoff, 0x520_0000);
    for c in &plan.readers {
        match c.reader {
            // Upstream kernels ignore it (unknown mode) rather than misread it.
            Reader::Kernel(_) => assert!(!c.after.loads(), "{}", c.reader.name()),
            Reader::MinVersion(2) => {
                assert!(c.loses());
                assert_eq!(c.after.reason().unwrap().token(), "min_version");
            }
            Reader::MinVersion(_) => {
                assert_eq!(c.after.view().unwrap().data_start, first);
            }
            // ndctl and the EFI view misread the legacy block and are fixed by the conversion.
            Reader::Ndctl | Reader::DataoffOnly => {
                assert!(c.fixed(), "{}", c.reader.name());
                assert_eq!(c.after.view().unwrap().data_start, first);
            }
            _ => {}
        }
    }
}

#[test]
fn back_from_2019_is_refused_because_the_efi_view_would_move() {
    let err = compat::plan_upgrade(&d2019(), &legacy_ns(), FormatVersion::V1_2).unwrap_err();
    assert!(
        matches!(err, compat::UpgradeError::DataWouldMove { .. }),
        "{err}"
    );
}

#[test]
fn downgrade_dropping_end_trunc_is_refused() {
    // v1.1 -> v1.0 drops start_pad and end_trunc (§3.7 step 7: read as 0 below minor 1).
    let err = compat::plan_upgrade(&legacy_v11(), &legacy_ns(), FormatVersion::V1_0).unwrap_err();
    let compat::UpgradeError::MovesData { before, after } = err else {
        panic!("{err}")
    };
    // Before: start + start_pad + 2M, 1G - 128M - 2M; after: start + 2M, 1G - 2M.
    assert_eq!(
        before,
        (
            LEGACY_START + 0x400_0000 + 2 * MIB,
            GIB - 128 * MIB - 2 * MIB
        )
    );
    assert_eq!(after, (LEGACY_START + 2 * MIB, GIB - 2 * MIB));
}

/// Fuzz finding F7 (fuzz/regressions/upgrade-f7-*): a block whose `dataoff` and `end_trunc`
/// exceed its namespace. Linux 4.6 has no small-namespace check and ppc64 takes the memmap
/// from RAM when the altmap is short, so that kernel enables it with a device size that
/// wrapped below zero: 16 MiB − end_trunc − dataoff = 64 KiB − 256 KiB. Dropping end_trunc
/// (a downgrade to v1.0) would make the same kernel expose 16 MiB − 256 KiB instead, so the
/// planner refuses every conversion of such a block.
#[test]
fn upgrade_of_a_block_with_no_data_in_the_namespace_is_refused() {
    let ns = Namespace::labelless(0, 16 * MIB);
    let mut i = info(DeviceKind::Fsdax, Version::V1_4, 256 * KIB, 4, Mode::PMEM);
    i.end_trunc = 0xff_0000;
    i.align = 0x100_0000;
    let old = emit(&i);
    let ppc = Profile::new(Era::V4_6, Platform::PPC64_HASH);
    let outcome = validate::check(&old, &ns, &ProbePath::Probe, &ppc).unwrap();
    let Outcome::Enabled(dev) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(dev.dev_size, (64 * KIB).wrapping_sub(256 * KIB));
    assert_eq!(dev.dev_size, 0xffff_ffff_fffd_0000);
    for target in FormatVersion::ALL {
        let err = compat::plan_upgrade(&old, &ns, target).unwrap_err();
        assert_eq!(
            err,
            compat::UpgradeError::NoDataInNamespace {
                start_pad: 0,
                dataoff: 256 * KIB,
                end_trunc: 0xff_0000,
                size: 16 * MIB,
            },
            "{target}"
        );
        assert_eq!(
            err.to_string(),
            "start_pad 0x0 + dataoff 0x40000 + end_trunc 0xff0000 exceed the namespace size \
             0x1000000: the block describes no data to keep in place"
        );
    }
}

#[test]
fn upgrade_v12_to_v14_gains_nothing_and_loses_nothing_for_kernels() {
    let plan =
        compat::plan_upgrade(&stale_v12(), &ns1g(&stale_v12()), FormatVersion::V1_4).unwrap();
    assert_eq!(plan.block.version(), Version::V1_4);
    assert_eq!(plan.block.page_size.get(), 4096);
    assert_eq!(plan.block.page_struct_size.get(), 64);
    // The stale bytes are gone (emit zeroes everything).
    assert!(!plan.block.has_nonzero_padding());
    for c in &plan.readers {
        if let Reader::Kernel(_) = c.reader {
            assert_eq!(c.before.loads(), c.after.loads(), "{}", c.reader.name());
        }
    }
    // min-version-2/3 lose it: a v1.4 layout has no min_version (choice, §1.5).
    assert!(plan
        .readers
        .iter()
        .any(|c| c.reader == Reader::MinVersion(3) && c.loses()));
}

#[test]
fn pss128_cannot_become_2019() {
    let err =
        compat::plan_upgrade(&pss(128), &ns1g(&pss(128)), FormatVersion::V2019_1_3).unwrap_err();
    assert!(matches!(
        err,
        compat::UpgradeError::Inexpressible { features, .. } if features == Features::PAGE_STRUCT_SIZE
    ));
}

#[test]
fn v10_derived_align_is_refused_as_target_1_0() {
    // ndctl's default block relabelled 1.0 is refused by 6.5 (bad offset), so the planner
    // refuses to write it (the target's validation fails).
    let b = corpus("fsdax-1G-default");
    let err = compat::plan_upgrade(&b, &ns1g(&b), FormatVersion::V1_0).unwrap_err();
    assert!(
        matches!(err, compat::UpgradeError::TargetRefuses { .. }),
        "{err}"
    );
}

#[test]
fn kernels_ignore_versions_and_the_matrix_shows_it() {
    // §1.4: no kernel checks version_major or bounds version_minor. Linux 4.15 (which writes
    // v1.2) loads a v1.4 block whose page_struct_size it does not know ...
    let b = pss(128);
    let required = RequiredVersion::of_block(&b).version.unwrap();
    let reader = k(Era::V4_15);
    assert!(!reader.understands().includes(required));
    assert_eq!(reader.version_support(), VersionSupport::IgnoresVersion);
    assert!(check(&b, &ns1g(&b), &reader).loads());
    // ... and every kernel loads Kata's major-0 block (NDCTL.md §6).
    for reader in Reader::KNOWN {
        if let Reader::Kernel(_) = reader {
            assert!(
                check(&kata(), &ns256m(&kata()), &reader).loads(),
                "{}",
                reader.name()
            );
        }
    }
    // A reader that declares its support does not: level 3 refuses the v1.4 block.
    assert!(!VersionSupport::Declares(3).admits(required));
    assert!(!check(&b, &ns1g(&b), &Reader::MinVersion(3)).loads());
}

#[test]
fn tokens_are_distinct_snake_case() {
    let mut reasons = std::collections::BTreeSet::new();
    let mut caveats = std::collections::BTreeSet::new();
    for row in rows() {
        let block = (row.block)();
        let v = check(&block, &(row.ns)(&block), &row.reader);
        if let Some(r) = v.reason() {
            assert!(!r.to_string().is_empty());
            reasons.insert(r.token());
        }
        for c in v.caveats().iter() {
            assert!(!c.to_string().is_empty());
            caveats.insert(c.token());
        }
    }
    for t in reasons.iter().chain(caveats.iter()) {
        assert!(
            t.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "token {t:?}"
        );
    }
    // The table reaches every caveat kind.
    assert_eq!(caveats.len(), 11, "{caveats:?}");
}

#[test]
fn upgrade_errors_carry_their_numbers() {
    let e = compat::plan_upgrade(&legacy_v11(), &legacy_ns(), FormatVersion::V1_0).unwrap_err();
    assert!(e.to_string().contains("0x1040200000"), "{e}");
    let e =
        compat::plan_upgrade(&pss(128), &ns1g(&pss(128)), FormatVersion::V2019_1_3).unwrap_err();
    assert_eq!(
        e.to_string(),
        "version 2019-1.3 cannot store page_struct_size"
    );
    let mut bad = pss(128);
    bad.npfns.set(1);
    let e = compat::plan_upgrade(&bad, &ns1g(&bad), FormatVersion::V1_4).unwrap_err();
    assert_eq!(e.to_string(), "not a usable info-block: checksum mismatch");
}

#[test]
fn derived_align_matches_the_kernel_fallback() {
    // §3.4 step 9: 1 << ilog2(dataoff); 0 has none (§7.7).
    assert_eq!(compat::derived_align(18 * MIB), 16 * MIB);
    assert_eq!(compat::derived_align(2 * MIB), 2 * MIB);
    assert_eq!(compat::derived_align(0x22000), 0x20000);
    assert_eq!(compat::derived_align(0), 0);
}
