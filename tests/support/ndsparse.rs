//! Loader for NDSPARSE files, the sparse image format of the kernel-written fixtures in
//! `tests/data/kernel/` (see `tests/data/kernel/README.md`).
//!
//! Format, all integers little-endian: the 8-byte magic `NDSPARSE`, a `u64` image size, then
//! records `{u64 offset, u64 length, length bytes}` until the end of the file. Each record is a
//! run of adjacent non-zero 4 KiB blocks of the image; every byte outside the records is zero.
//!
//! Include it with `#[path = "support/ndsparse.rs"] mod ndsparse;` (root tests).

// Each test crate uses only part of this module; the rest would warn as dead code there.
#![allow(dead_code)]

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

/// The file's first 8 bytes.
pub const MAGIC: &[u8; 8] = b"NDSPARSE";

/// Largest image [`load`] builds in memory (small fixtures only; use [`runs`] for the rest).
pub const LOAD_LIMIT: u64 = 1 << 30;

fn bad(path: &Path, what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: {what}", path.display()),
    )
}

/// The runs of an NDSPARSE file, read one record at a time (for big sparse images).
pub struct Runs {
    reader: BufReader<File>,
    path: std::path::PathBuf,
    /// The image size from the header.
    pub size: u64,
    done: bool,
}

/// Opens an NDSPARSE file: the image size, and an iterator over its `(offset, bytes)` runs in
/// file order. Each item is checked: the run lies inside the image and the record is whole.
pub fn runs(path: impl AsRef<Path>) -> io::Result<Runs> {
    let path = path.as_ref();
    let mut reader = BufReader::new(File::open(path)?);
    let mut head = [0u8; 16];
    reader
        .read_exact(&mut head)
        .map_err(|_| bad(path, "shorter than the 16-byte header"))?;
    if &head[..8] != MAGIC {
        return Err(bad(path, "no NDSPARSE magic"));
    }
    let size = u64::from_le_bytes(head[8..16].try_into().expect("8 bytes"));
    Ok(Runs {
        reader,
        path: path.to_path_buf(),
        size,
        done: false,
    })
}

impl Iterator for Runs {
    type Item = io::Result<(u64, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut rec = [0u8; 16];
        // A clean end of file is the end of the records; a partial header is an error.
        let mut got = 0;
        while got < rec.len() {
            match self.reader.read(&mut rec[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        if got == 0 {
            self.done = true;
            return None;
        }
        if got < rec.len() {
            self.done = true;
            return Some(Err(bad(&self.path, "truncated record header")));
        }
        let off = u64::from_le_bytes(rec[..8].try_into().expect("8 bytes"));
        let len = u64::from_le_bytes(rec[8..].try_into().expect("8 bytes"));
        if off.checked_add(len).map_or(true, |end| end > self.size) {
            self.done = true;
            return Some(Err(bad(
                &self.path,
                &format!("run {off:#x}+{len:#x} is outside the image"),
            )));
        }
        let mut data = vec![0u8; usize::try_from(len).expect("run fits in memory")];
        if let Err(e) = self.reader.read_exact(&mut data) {
            self.done = true;
            return Some(Err(bad(
                &self.path,
                &format!("truncated run at {off:#x}: {e}"),
            )));
        }
        Some(Ok((off, data)))
    }
}

/// The whole image of a small NDSPARSE fixture as bytes (zeros outside the runs).
///
/// Panics with the path in the message on any error or an image over [`LOAD_LIMIT`], which is
/// what a test wants from a missing or broken fixture.
pub fn load(path: impl AsRef<Path>) -> Vec<u8> {
    let path = path.as_ref();
    let r = runs(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        r.size <= LOAD_LIMIT,
        "{}: image of {} bytes is too big for load(); use runs()",
        path.display(),
        r.size
    );
    let mut img = vec![0u8; usize::try_from(r.size).expect("size fits")];
    for item in r {
        let (off, data) = item.unwrap_or_else(|e| panic!("{e}"));
        let off = usize::try_from(off).expect("offset fits");
        img[off..off + data.len()].copy_from_slice(&data);
    }
    img
}

/// Writes the image of `path` to the file `out` as a sparse file (its size set, only the
/// non-zero runs written) and returns the image size.
pub fn unpack(path: impl AsRef<Path>, out: &Path) -> io::Result<u64> {
    use std::os::unix::fs::FileExt;
    let runs = runs(path)?;
    let size = runs.size;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(out)?;
    file.set_len(size)?;
    for run in runs {
        let (offset, bytes) = run?;
        file.write_all_at(&bytes, offset)?;
    }
    Ok(size)
}

/// An image in memory as its written 4 KiB pages (zeros elsewhere), for namespaces of up to
/// terabytes: the crate's `ReadAt`/`WriteAt` over it, an all-zero write to an absent page
/// stored as nothing. A read or write past `size` is a `SliceError`.
#[derive(Clone, Debug)]
pub struct Sparse {
    /// Image bytes.
    pub size: u64,
    /// Page number → its 4096 bytes.
    pub pages: std::collections::HashMap<u64, Box<[u8; 4096]>>,
}

impl Sparse {
    /// An all-zero image of `size` bytes.
    pub fn new(size: u64) -> Self {
        Self {
            size,
            pages: std::collections::HashMap::new(),
        }
    }

    /// The image of an NDSPARSE file (panics naming the file when it cannot be read).
    pub fn load(path: impl AsRef<Path>) -> Self {
        use nvdimm_infoblock::io::WriteAt as _;
        let path = path.as_ref();
        let runs = runs(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut img = Self::new(runs.size);
        for run in runs {
            let (offset, bytes) = run.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            img.write_at(offset, &bytes)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
        img
    }

    /// `offset..offset + len` as (page, offset in page, offset in buffer, bytes), after the
    /// bounds check.
    fn pieces(
        &self,
        offset: u64,
        len: usize,
    ) -> Result<impl Iterator<Item = (u64, usize, usize, usize)>, nvdimm_infoblock::io::SliceError>
    {
        if offset
            .checked_add(len as u64)
            .map_or(true, |e| e > self.size)
        {
            return Err(nvdimm_infoblock::io::SliceError {
                offset,
                len,
                size: usize::try_from(self.size).unwrap_or(usize::MAX),
            });
        }
        let mut done = 0usize;
        Ok(std::iter::from_fn(move || {
            if done >= len {
                return None;
            }
            let at = offset + done as u64;
            let in_page = (at % 4096) as usize;
            let n = (4096 - in_page).min(len - done);
            let piece = (at / 4096, in_page, done, n);
            done += n;
            Some(piece)
        }))
    }
}

impl nvdimm_infoblock::io::ReadAt for Sparse {
    type Error = nvdimm_infoblock::io::SliceError;

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Self::Error> {
        for (page, at, from, n) in self.pieces(offset, buf.len())? {
            let dst = &mut buf[from..from + n];
            match self.pages.get(&page) {
                Some(p) => dst.copy_from_slice(&p[at..at + n]),
                None => dst.fill(0),
            }
        }
        Ok(())
    }
}

impl nvdimm_infoblock::io::WriteAt for Sparse {
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<(), Self::Error> {
        let pieces: Vec<_> = self.pieces(offset, buf.len())?.collect();
        for (page, at, from, n) in pieces {
            let src = &buf[from..from + n];
            if !self.pages.contains_key(&page) && src.iter().all(|&b| b == 0) {
                continue;
            }
            self.pages
                .entry(page)
                .or_insert_with(|| Box::new([0; 4096]))[at..at + n]
                .copy_from_slice(src);
        }
        Ok(())
    }
}
