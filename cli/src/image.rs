//! Opening an image (a file or a block device) and reading its head.

use std::fs::File;
use std::io::{Seek as _, SeekFrom};
use std::os::unix::fs::FileExt as _;

use nvdimm_infoblock::io::ReadAt;

use crate::progress::Progress;
use crate::{Ctx, Failure};

/// An open image: a regular file or a block device.
#[derive(Debug)]
pub struct Image {
    /// The path as given (used in messages).
    pub path: String,
    file: File,
    /// Its length in bytes (for block devices: the device size, found by seeking to the end).
    pub len: u64,
}

/// An `io::Error` without the "(os error N)" suffix.
pub fn io_text(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

impl Image {
    /// Opens `path` read-only and finds its length.
    pub fn open(path: &str) -> Result<Self, Failure> {
        let file =
            File::open(path).map_err(|e| Failure::usage(format!("{path}: {}", io_text(&e))))?;
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(Failure::usage(format!(
                "{path}: is a directory, not an image"
            )));
        }
        // Seeking to the end is right for regular files and block devices (whose metadata
        // length is 0).
        let len = (&file).seek(SeekFrom::End(0)).map_err(|e| {
            Failure::usage(format!("{path}: cannot find the size: {}", io_text(&e)))
        })?;
        Ok(Self {
            path: path.to_owned(),
            file,
            len,
        })
    }

    /// Reads the first `min(len, limit)` bytes, through a [`Progress`] (drawn for big reads
    /// only).
    pub fn read_prefix(&mut self, limit: u64, ctx: &Ctx) -> Result<Vec<u8>, Failure> {
        let n = self.len.min(limit);
        let size = usize::try_from(n).map_err(|_| {
            Failure::usage(format!("{}: {n} bytes do not fit in memory", self.path))
        })?;
        let mut bytes = vec![0u8; size];
        let progress = Progress::bytes(ctx, n, format!("reading {}", self.path));
        const CHUNK: usize = 8 << 20;
        let path = self.path.clone();
        let mut reader = progress.read_at(&mut *self);
        let mut offset = 0u64;
        for chunk in bytes.chunks_mut(CHUNK) {
            reader
                .read_at(offset, chunk)
                .map_err(|e| Failure::usage(format!("cannot read {path}: {}", io_text(&e))))?;
            offset += u64::try_from(chunk.len()).unwrap_or(u64::MAX);
        }
        progress.finish();
        Ok(bytes)
    }
}

impl ReadAt for Image {
    type Error = std::io::Error;

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), std::io::Error> {
        self.file.read_exact_at(buf, offset)
    }
}

/// What valid metadata `file` already holds that a create would overwrite: a BTT info block
/// (signature and checksum valid, whatever its parent uuid) at byte 0 or 4096, or a pfn/dax
/// info block at 4096. `None` when there is none (or the file is too short to hold one).
pub fn existing_metadata(file: &File) -> Option<String> {
    use nvdimm_infoblock::btt::raw::BttSb;
    use nvdimm_infoblock::{parse, ParseOptions};
    let mut block = [0u8; 4096];
    for offset in [0u64, 4096] {
        if file.read_exact_at(&mut block, offset).is_err() {
            continue;
        }
        if let Some(sb) = BttSb::read_from(&block) {
            if sb.has_signature() && sb.verify_checksum().is_ok() {
                let (major, minor) = (sb.version_major.get(), sb.version_minor.get());
                return Some(format!(
                    "a valid BTT {major}.{minor} info block at byte {offset}"
                ));
            }
        }
        if offset == 4096 && parse(&block, &ParseOptions::DEFAULT).is_ok() {
            let sig = String::from_utf8_lossy(block.get(..15).unwrap_or(&[])).into_owned();
            return Some(format!("a valid {sig} info block at byte 4096"));
        }
    }
    None
}
