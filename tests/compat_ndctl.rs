//! The `ndctl` reader model against the real `ndctl read-infoblock -j -V` (ndctl 76+,
//! NDCTL.md §3): the model loads a block exactly when ndctl prints it as a PFN or DAX block.
//! Skips (with a message) when ndctl is not on PATH, unless NVDIMM_REQUIRE_NDCTL is set (CI).

use std::path::{Path, PathBuf};
use std::process::Command;

use nvdimm_infoblock::compat::{check, FormatVersion, Namespace, Reader};
use nvdimm_infoblock::{DeviceKind, InfoBlock, Mode, PfnInfo, Uuid, Version};

#[path = "support/mod.rs"]
mod support;
use support::{ndctl_available, TempFile};

/// Whether `ndctl read-infoblock -i PATH -j -V` prints a PFN or DAX object.
fn ndctl_prints(path: &Path) -> bool {
    let o = Command::new("ndctl")
        .args(["read-infoblock", "-j", "-V", "-i"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}: rc {:?}",
        path.display(),
        o.status.code()
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v.as_array().unwrap().iter().any(|b| {
        let sig = b["signature"].as_str().unwrap_or("");
        sig == "NVDIMM_PFN_INFO" || sig == "NVDIMM_DAX_INFO"
    })
}

fn head_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ndctl");
    let mut files = Vec::new();
    for d in [dir.clone(), dir.join("bad")] {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "bin") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// Blocks the corpus lacks: the 2019 v1.3, a Kata v0.2 block, and a v1.2 block with stale
/// bytes in the padding.
fn extra_blocks() -> Vec<(&'static str, InfoBlock)> {
    let mut i = PfnInfo {
        kind: DeviceKind::Fsdax,
        uuid: Uuid([0x11; 16]),
        parent_uuid: Uuid::NIL,
        flags: 0,
        version: Version::V1_2,
        dataoff: 0x120_0000,
        npfns: 0x3_ae00,
        mode: Mode::PMEM,
        start_pad: 0x400_0000,
        end_trunc: 0,
        align: 0x20_0000,
        page_size: 4096,
        page_struct_size: 64,
        min_version: None,
    };
    let legacy = i.to_block().unwrap();
    let ns = Namespace::labelless(0x10_3c00_0000, 1 << 30);
    let v2019 = nvdimm_infoblock::compat::plan_upgrade(&legacy, &ns, FormatVersion::V2019_1_3)
        .unwrap()
        .block;
    i.version = Version::new(0, 2);
    i.start_pad = 0;
    i.mode = Mode::RAM;
    i.dataoff = 0x20_0000;
    i.npfns = 0;
    let kata = i.to_block().unwrap();
    let mut stale = legacy.clone();
    stale.page_size.set(0xdead_beef);
    stale.update_checksum();
    vec![
        ("legacy", legacy),
        ("2019", v2019),
        ("kata", kata),
        ("stale", stale),
    ]
}

#[test]
fn ndctl_reader_model_matches_read_infoblock() {
    if !ndctl_available("compat_ndctl") {
        return;
    }
    let ns = Namespace::labelless(0x1_0000_0000, 1 << 30);
    let mut compared = 0;
    for path in head_files() {
        let bytes = std::fs::read(&path).unwrap();
        let block = InfoBlock::locate(&bytes).unwrap();
        let model = check(
            block,
            &Namespace {
                uuid: block.parent_uuid,
                ..ns
            },
            &Reader::Ndctl,
        );
        assert_eq!(
            model.loads(),
            ndctl_prints(&path),
            "{}: model says {model:?}",
            path.display()
        );
        compared += 1;
    }
    for (name, block) in extra_blocks() {
        let mut head = vec![0u8; 8192];
        head[4096..].copy_from_slice(zerocopy::IntoBytes::as_bytes(&block));
        let file = TempFile::new(&format!("compat-ndctl-{name}.bin"), &head);
        let model = check(&block, &ns, &Reader::Ndctl);
        let real = ndctl_prints(&file.0);
        assert_eq!(model.loads(), real, "{name}: model says {model:?}");
        compared += 1;
    }
    assert!(compared >= 80, "only {compared} blocks compared");
}
