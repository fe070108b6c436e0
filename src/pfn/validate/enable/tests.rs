//! Unit tests of the enable stage's page arithmetic.
#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

use super::Pages;
use crate::pfn::profile::{AlignSet, Platform};

/// (shift, per_section, per_subsection, section_memmap, block_bytes, block_pages).
fn fields(p: &Pages) -> (u32, u64, u64, u64, u64, u64) {
    (
        p.shift,
        p.per_section,
        p.per_subsection,
        p.section_memmap,
        p.block_bytes,
        p.block_pages,
    )
}

const K: u64 = 1024;
const M: u64 = 1024 * K;

#[test]
fn preset_geometry_by_hand() {
    // Worked out by hand from each preset's PAGE_SIZE, section size, PMD_SIZE and
    // sizeof(struct page) = 64: pages per section, per 2 MiB sub-section, memmap bytes
    // per section, and the block (that memmap rounded up to a page, at most PMD_SIZE).
    let expected = [
        // x86_64: 4 KiB pages, 128 MiB sections: 32768 pages, 2 MiB of memmap, one PMD.
        (&Platform::X86_64, (12, 32_768, 512, 2 * M, 2 * M, 512)),
        // ppc64: 64 KiB pages, 16 MiB sections: 256 pages, 16 KiB of memmap, one page.
        (&Platform::PPC64_HASH, (16, 256, 32, 16 * K, 64 * K, 1)),
        (&Platform::PPC64_RADIX, (16, 256, 32, 16 * K, 64 * K, 1)),
        (&Platform::ARM64_4K, (12, 32_768, 512, 2 * M, 2 * M, 512)),
        // arm64 64 KiB pages, 512 MiB sections: 8192 pages, 512 KiB of memmap, 8 pages.
        (&Platform::ARM64_64K, (16, 8192, 32, 512 * K, 512 * K, 8)),
    ];
    assert_eq!(expected.len(), Platform::ALL.len());
    for (platform, want) in expected {
        let pages = Pages::preset(platform).unwrap();
        assert_eq!(fields(pages), want, "{}", platform.name);
        assert_eq!(pages.mask, u64::MAX);
        assert_eq!(
            fields(&Pages::of_platform(platform)),
            want,
            "{}",
            platform.name
        );
    }
}

#[test]
fn only_the_key_fields_select_a_preset() {
    for preset in Platform::ALL {
        // Other fields do not change the page arithmetic: still the preset's row.
        let other = Platform {
            name: "custom",
            compat_align: 1,
            dax_aligns: AlignSet::EMPTY,
            memmap_ram_fallback: !preset.memmap_ram_fallback,
            ..preset
        };
        let row = Pages::preset(&other).unwrap();
        assert_eq!(
            fields(row),
            fields(&Pages::of_platform(&other)),
            "{}",
            preset.name
        );
        // A key field that differs from every preset: worked out, not looked up.
        let struct_page = Platform {
            struct_page_size: 80,
            ..preset
        };
        assert!(Pages::preset(&struct_page).is_none(), "{}", preset.name);
    }
    // The table never answers differently from working it out, for any key field changed.
    let sizes = [
        0,
        1,
        3,
        4 * K,
        16 * K,
        64 * K,
        2 * M,
        16 * M,
        128 * M,
        512 * M,
        u64::MAX,
    ];
    for preset in Platform::ALL {
        for v in sizes {
            for p in [
                Platform {
                    page_size: v,
                    ..preset
                },
                Platform {
                    section_size: v,
                    ..preset
                },
                Platform {
                    pmd_size: v,
                    ..preset
                },
            ] {
                if let Some(row) = Pages::preset(&p) {
                    assert_eq!(fields(row), fields(&Pages::of_platform(&p)));
                    assert_eq!(row.mask, Pages::of_platform(&p).mask);
                }
            }
        }
    }
    // x86_64 with 16 KiB pages, by hand: 8192 pages per 128 MiB section, 128 per
    // sub-section, 512 KiB of memmap per section, a 512 KiB block of 32 pages.
    let p16k = Platform {
        page_size: 16 * K,
        ..Platform::X86_64
    };
    assert!(Pages::preset(&p16k).is_none());
    assert_eq!(
        fields(&Pages::of_platform(&p16k)),
        (14, 8192, 128, 512 * K, 512 * K, 32)
    );
    // struct page of 56 bytes (some configs): 32768 x 56 = 1.75 MiB of memmap per
    // section, rounded to pages it stays 1.75 MiB (under the 2 MiB PMD): 448 pages.
    let sp56 = Platform {
        struct_page_size: 56,
        ..Platform::X86_64
    };
    assert_eq!(
        fields(&Pages::of_platform(&sp56)),
        (12, 32_768, 512, 1792 * K, 1792 * K, 448)
    );
    // Hand-made platforms the kernel cannot have, worked out by hand; each value is what
    // the clamps give in their order (round up to a page, at most PMD_SIZE, at least a
    // page). A PMD below the page: the page wins (64 KiB block, not 4 KiB).
    let small_pmd = Platform {
        pmd_size: 4 * K,
        ..Platform::PPC64_HASH
    };
    assert_eq!(
        fields(&Pages::of_platform(&small_pmd)),
        (16, 256, 32, 16 * K, 64 * K, 1)
    );
    // 1-byte pages and a section of u64::MAX bytes: the memmap per section saturates,
    // so the block is the PMD, 2 Mi pages of one byte.
    let huge = Platform {
        page_size: 1,
        section_size: u64::MAX,
        ..Platform::X86_64
    };
    assert_eq!(
        fields(&Pages::of_platform(&huge)),
        (0, u64::MAX, 2 * M, u64::MAX, 2 * M, 2 * M)
    );
    // A struct page of 0 bytes: no memmap, the block is one page.
    let no_memmap = Platform {
        struct_page_size: 0,
        ..Platform::X86_64
    };
    assert_eq!(
        fields(&Pages::of_platform(&no_memmap)),
        (12, 32_768, 512, 0, 4 * K, 1)
    );
    // A page of 3 bytes: PAGE_SHIFT is its trailing zeros (0), the counts divide exactly
    // (128 MiB / 3 = 44 739 242 pages, x 64 = 2 863 311 488 bytes), and the round-up is the
    // kernel's ALIGN mask, which leaves that value; the PMD then caps the block.
    let three = Platform {
        page_size: 3,
        ..Platform::X86_64
    };
    assert_eq!(
        fields(&Pages::of_platform(&three)),
        (0, 44_739_242, 2 * M, 2_863_311_488, 2 * M, 2 * M)
    );
    // A page size of 0: every pfn is 0, every count at least 1.
    let zero = Platform {
        page_size: 0,
        ..Platform::X86_64
    };
    let z = Pages::of_platform(&zero);
    assert_eq!((z.mask, z.pfn(u64::MAX)), (0, 0));
    assert_eq!((z.per_section, z.per_subsection, z.block_pages), (1, 1, 1));
}
