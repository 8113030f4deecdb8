//! Decoders are third-party code fed files nobody vetted: a panic inside one
//! (the tiff crate asserts on some valid files, fuzzers find more) must cost
//! that one file, never the indexing run, the watcher or a query.
//!
//! Decoding holds no state shared beyond the call (every decoder is created
//! for the file and dropped with it), so nothing is left poisoned after an
//! unwind. Panics inside decoders are not printed by the default hook (they
//! are reported as the file's error instead); any other panic still is.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use super::{DecodeError, Format};

thread_local! {
    static DECODING: Cell<bool> = const { Cell::new(false) };
}

fn install_quiet_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if DECODING.with(Cell::get) {
                log::debug!("decoder panic (contained): {info}");
            } else {
                previous(info);
            }
        }));
    });
}

/// Run `decode` so that a panic inside it becomes `DecodeError::Crashed`.
pub(super) fn contained<T>(format: Format, decode: impl FnOnce() -> Result<T, DecodeError>) -> Result<T, DecodeError> {
    install_quiet_hook();
    let outer = DECODING.with(|d| d.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(decode));
    DECODING.with(|d| d.set(outer));
    result.unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        Err(DecodeError::Crashed { format: format.as_str(), message })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_this_files_error_and_the_next_call_works() {
        let crashed = contained::<()>(Format::Tiff, || panic!("assertion failed: buf.len() >= n"));
        assert_eq!(
            crashed.err(),
            Some(DecodeError::Crashed { format: "tiff", message: "assertion failed: buf.len() >= n".into() })
        );
        assert_eq!(contained(Format::Png, || Ok(7)), Ok(7));
        assert!(!DECODING.with(Cell::get), "the flag is reset after a contained panic");
    }
}
