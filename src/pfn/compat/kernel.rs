//! The bridge to the validator: a kernel reader's verdict is [`crate::pfn::validate::check`]'s
//! [`Outcome`], never a second copy of the rules.

use super::reader::{Reason, View};
use crate::pfn::profile::Profile;
use crate::pfn::raw::InfoBlock;
use crate::pfn::validate::{self, Namespace, Outcome, ProbePath};

/// A kernel outcome in the checker's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum KernelOutcome {
    /// The namespace is used raw.
    Raw(Reason),
    /// The block is recognised and refused.
    Rejected(Reason),
    /// The device is enabled.
    Enabled(View),
}

/// The probe-path outcome of `profile` for `block` in `ns`, from the validator.
pub(crate) fn kernel_outcome(
    block: &InfoBlock,
    ns: &Namespace,
    profile: &Profile,
) -> KernelOutcome {
    outcome_of(validate::check(block, ns, &ProbePath::Probe, profile))
}

/// [`kernel_outcome`] of a block already read as the kernel reads it (signature and checksum
/// known good): `info` as [`crate::pfn::model::PfnInfo::parse`] returns it with the upstream dialect
/// and the profile's page size. Lets the checker judge a block it would otherwise have to
/// build (and copy) just to have the validator parse it.
pub(crate) fn kernel_outcome_of_info(
    info: &crate::pfn::model::PfnInfo,
    ns: &Namespace,
    profile: &Profile,
) -> KernelOutcome {
    outcome_of(validate::check_info(info, ns, &ProbePath::Probe, profile))
}

fn outcome_of(outcome: Result<Outcome, validate::NamespaceError>) -> KernelOutcome {
    match outcome {
        Err(e) => KernelOutcome::Rejected(Reason::Namespace(e)),
        Ok(Outcome::Raw { reason, errno }) => KernelOutcome::Raw(Reason::Kernel {
            reason,
            errno,
            stage: None,
        }),
        Ok(Outcome::Rejected {
            stage,
            reason,
            errno,
        }) => KernelOutcome::Rejected(Reason::Kernel {
            reason,
            errno,
            stage: Some(stage),
        }),
        Ok(Outcome::Enabled(e)) => KernelOutcome::Enabled(View {
            kind: e.kind,
            mode: e.mode,
            data_start: e.dev_resource,
            data_size: e.dev_size,
            align: e.dev_align,
            npfns: e.npfns,
        }),
    }
}
