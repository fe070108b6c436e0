//! Progress bars for long operations (scans of big images, BTT deep checks).
//!
//! A [`Progress`] counts units of work (bytes, usually) towards a known total. It draws an
//! indicatif bar on **stderr** only when stderr is a terminal, `--quiet` was not given and the
//! total is at least [`Progress::MIN_BYTES`] (smaller jobs finish before a bar would help).
//! The bar is cleared when the work ends, so it never leaves a line behind: the one-line
//! error rule (docs/cli.md "Exit codes") holds with or without it.
//!
//! ```ignore
//! let progress = Progress::bytes(ctx, image.len, "scanning pmem0");
//! let mut reader = progress.read_at(&mut image);   // implements nvdimm_infoblock::io::ReadAt
//! btt::check(&mut reader, ...)?;                    // every read_at advances the bar
//! progress.finish();
//! ```

use std::io::IsTerminal as _;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nvdimm_infoblock::io::ReadAt;

use crate::Ctx;

/// A progress counter with an optional bar on stderr.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// Jobs smaller than this many bytes never draw a bar (64 MiB).
    pub const MIN_BYTES: u64 = 64 << 20;

    /// Whether a bar for `total` bytes is drawn under `ctx`: stderr is a terminal, no
    /// `--quiet`, and `total` is at least [`Self::MIN_BYTES`].
    pub fn visible(ctx: &Ctx, total: u64) -> bool {
        !ctx.global.quiet && total >= Self::MIN_BYTES && std::io::stderr().is_terminal()
    }

    /// A byte counter towards `total`, labelled `label` (e.g. `"reading ns.img"`).
    pub fn bytes(ctx: &Ctx, total: u64, label: impl Into<String>) -> Self {
        let target = if Self::visible(ctx, total) {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(total), target);
        if let Ok(style) = ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(label.into());
        Self { bar }
    }

    /// Adds `n` units of work done.
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Raises the total to `total` (a job that found more work than it announced).
    pub fn grow_to(&self, total: u64) {
        if self.bar.length().is_some_and(|len| len < total) {
            self.bar.set_length(total);
        }
    }

    /// Units done so far.
    #[cfg(test)]
    pub fn position(&self) -> u64 {
        self.bar.position()
    }

    /// Ends the job and clears the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    /// Wraps a [`ReadAt`] so that every successful `read_at` adds its length.
    pub fn read_at<R: ReadAt>(&self, inner: R) -> ProgressReadAt<'_, R> {
        ProgressReadAt {
            inner,
            progress: self,
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// A [`ReadAt`] that reports the bytes it reads to a [`Progress`].
#[derive(Debug)]
pub struct ProgressReadAt<'a, R> {
    inner: R,
    progress: &'a Progress,
}

impl<R: ReadAt> ReadAt for ProgressReadAt<'_, R> {
    type Error = R::Error;

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), R::Error> {
        self.inner.read_at(offset, buf)?;
        self.progress
            .inc(u64::try_from(buf.len()).unwrap_or(u64::MAX));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Global;

    fn ctx(quiet: bool) -> Ctx {
        Ctx {
            global: Global { quiet },
        }
    }

    /// The wrapper passes the data through and counts what was read, and only what was read
    /// successfully (a read past the end of the 8-byte slice fails and counts nothing).
    #[test]
    fn read_at_counts_bytes() {
        let data: &[u8] = &[1, 2, 3, 4, 5, 6, 7, 8];
        let progress = Progress::bytes(&ctx(true), 8, "test");
        let mut reader = progress.read_at(data);
        let mut buf = [0u8; 3];
        reader.read_at(2, &mut buf).unwrap();
        assert_eq!(buf, [3, 4, 5]);
        reader.read_at(6, &mut buf).unwrap_err();
        let mut two = [0u8; 2];
        reader.read_at(6, &mut two).unwrap();
        assert_eq!(progress.position(), 3 + 2);
        progress.finish();
    }

    /// The BTT check announces one pass and grows the total when a window needs a second:
    /// the bar's length follows it up, never down.
    #[test]
    fn the_total_only_grows() {
        let progress = Progress::bytes(&ctx(true), 100, "test");
        progress.grow_to(50);
        assert_eq!(progress.bar.length(), Some(100));
        progress.grow_to(250);
        assert_eq!(progress.bar.length(), Some(250));
    }

    /// `--quiet` and small jobs never draw, whatever stderr is.
    #[test]
    fn quiet_and_small_jobs_are_hidden() {
        assert!(!Progress::visible(&ctx(true), u64::MAX));
        assert!(!Progress::visible(&ctx(false), Progress::MIN_BYTES - 1));
    }
}
