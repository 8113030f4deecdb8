//! Handing freed memory back to the system.
//!
//! A scan or an indexing run allocates and frees hundreds of megabytes
//! across threads; glibc keeps freed pages in its per-thread arenas, so an
//! idle watcher would go on holding the peak. Trimming after such work
//! brings its resident set back to what it really uses.

/// Return free heap pages to the system (glibc); elsewhere, nothing.
pub fn release_free() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases pages the allocator holds free.
    unsafe {
        libc::malloc_trim(0);
    }
}
