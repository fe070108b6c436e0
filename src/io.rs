//! Positioned reads and writes, the only I/O boundary of the crate.
//!
//! The library never opens a file: every format that must look past one block (the BTT's map
//! and flog, a label storage area, a namespace's head for `probe`) reads through [`ReadAt`],
//! which the caller implements over whatever holds the bytes (a `std::fs::File`, a firmware
//! block device, a memory-mapped namespace). Updates go through [`WriteAt`], and only after a
//! dry run has reported every byte range they will write.
//!
//! Byte slices implement both traits, so a namespace (or its head) already in memory works as
//! it is:
//!
//! ```
//! use nvdimm_infoblock::io::{ReadAt, SliceError};
//!
//! let ns = [7u8; 64];
//! let mut buf = [0u8; 8];
//! (&ns[..]).read_at(56, &mut buf)?;
//! assert_eq!(buf, [7; 8]);
//! assert_eq!(
//!     (&ns[..]).read_at(60, &mut buf),
//!     Err(SliceError { offset: 60, len: 8, size: 64 })
//! );
//! # Ok::<(), SliceError>(())
//! ```

use core::fmt;

/// Reads bytes at absolute offsets of one address space (an image, a namespace, a label area).
///
/// Offsets are relative to the start of what the implementation stands for; each format
/// documents which start it expects (a BTT reader takes the namespace, so the v1.1 info block
/// is at offset 4096 of it).
pub trait ReadAt {
    /// What a failed read reports (an I/O error, a bounds error).
    type Error: fmt::Debug;

    /// Fills all of `buf` with the bytes at `offset..offset + buf.len()`.
    ///
    /// # Errors
    /// When any byte of the range cannot be read, including a range past the end. A short
    /// read is an error, never a partly filled buffer reported as success.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Self::Error>;
}

/// Writes bytes at absolute offsets; see [`ReadAt`].
pub trait WriteAt: ReadAt {
    /// Writes all of `buf` at `offset..offset + buf.len()`.
    ///
    /// # Errors
    /// When any byte of the range cannot be written, including a range past the end.
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<(), Self::Error>;
}

/// A read or write outside a byte slice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SliceError {
    /// Offset asked for.
    pub offset: u64,
    /// Bytes asked for.
    pub len: usize,
    /// Length of the slice.
    pub size: usize,
}

impl fmt::Display for SliceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} bytes at offset {} are outside a {}-byte buffer",
            self.len, self.offset, self.size
        )
    }
}

impl core::error::Error for SliceError {}

/// The range `offset..offset + len` of a slice of length `size`, or the error naming it.
fn range(offset: u64, len: usize, size: usize) -> Result<core::ops::Range<usize>, SliceError> {
    let err = SliceError { offset, len, size };
    let start = usize::try_from(offset).map_err(|_| err)?;
    let end = start.checked_add(len).ok_or(err)?;
    if end > size {
        return Err(err);
    }
    Ok(start..end)
}

impl ReadAt for &[u8] {
    type Error = SliceError;

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), SliceError> {
        let src = range(offset, buf.len(), self.len()).and_then(|r| {
            self.get(r).ok_or(SliceError {
                offset,
                len: buf.len(),
                size: self.len(),
            })
        })?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

impl ReadAt for &mut [u8] {
    type Error = SliceError;

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), SliceError> {
        (&**self).read_at(offset, buf)
    }
}

impl WriteAt for &mut [u8] {
    fn write_at(&mut self, offset: u64, buf: &[u8]) -> Result<(), SliceError> {
        let size = self.len();
        let dst = range(offset, buf.len(), size).and_then(|r| {
            self.get_mut(r).ok_or(SliceError {
                offset,
                len: buf.len(),
                size,
            })
        })?;
        dst.copy_from_slice(buf);
        Ok(())
    }
}

impl<T: ReadAt + ?Sized> ReadAt for &mut T {
    type Error = T::Error;

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), T::Error> {
        (**self).read_at(offset, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::{ReadAt, SliceError, WriteAt};

    #[test]
    fn slices_read_and_write_inside_and_refuse_outside() {
        let mut mem = [0u8; 16];
        let mut view: &mut [u8] = &mut mem;
        view.write_at(12, &[1, 2, 3, 4]).unwrap();
        assert_eq!(
            view.write_at(13, &[1, 2, 3, 4]),
            Err(SliceError {
                offset: 13,
                len: 4,
                size: 16
            })
        );
        assert_eq!(
            view.write_at(u64::MAX, &[1]),
            Err(SliceError {
                offset: u64::MAX,
                len: 1,
                size: 16
            })
        );
        let mut out = [0u8; 4];
        view.read_at(12, &mut out).unwrap();
        assert_eq!(out, [1, 2, 3, 4]);
        assert_eq!(mem[11..], [0, 1, 2, 3, 4]);
        // An empty read at the very end is inside; one byte past it is not.
        assert_eq!((&mem[..]).read_at(16, &mut []), Ok(()));
        assert!((&mem[..]).read_at(17, &mut []).is_err());
    }
}
