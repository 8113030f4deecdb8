//! One writer per library, across processes.
//!
//! Whatever changes the library (scanning, embedding, adding folders,
//! trashing) holds an advisory `flock` on `<library>/writer.lock` for the
//! length of that one piece of work, not for the life of the process: a
//! `watch` that sits idle lets an `index` from another shell run, and one that
//! is indexing makes it wait, saying for whom ("photofinder (pid 4711), which
//! is indexing this library"). Readers (search, status) take no lock: SQLite's
//! WAL lets them read while the writer writes.
//!
//! The kernel drops the lock when its holder dies, kill -9 included, so a
//! crash never leaves a library locked. The lock is re-entrant within one
//! `WriterLock` (index -> scan -> sync takes it once).
//!
//! Knows nothing of what is written under the lock.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::progress::{Cancel, Event, Sink};

/// How often a waiting writer tries again (and looks at its cancel flag).
const RETRY: Duration = Duration::from_millis(100);

pub struct WriterLock {
    path: PathBuf,
    file: Mutex<Option<File>>,
    depth: AtomicUsize,
}

/// Held while a piece of work changes the library; dropping it lets the next writer in.
pub struct WriteGuard {
    lock: Arc<WriterLock>,
}

impl Drop for WriteGuard {
    fn drop(&mut self) {
        if self.lock.depth.fetch_sub(1, Ordering::SeqCst) == 1 {
            // Closing the descriptor releases the flock.
            self.lock.file.lock().unwrap_or_else(|p| p.into_inner()).take();
        }
    }
}

impl WriterLock {
    pub fn new(library_dir: &Path) -> Arc<WriterLock> {
        Arc::new(WriterLock { path: library_dir.join("writer.lock"), file: Mutex::new(None), depth: AtomicUsize::new(0) })
    }

    /// Take the lock for `activity` ("indexing"), waiting for another
    /// process that holds it (told through `sink`) until it is done or
    /// `cancel` is set.
    pub fn acquire(self: &Arc<Self>, activity: &str, sink: Sink, cancel: &Cancel) -> Result<WriteGuard> {
        let mut told = false;
        loop {
            if let Some(guard) = self.try_acquire(activity)? {
                return Ok(guard);
            }
            if !told {
                sink(Event::WaitingForWriter { holder: self.holder() });
                told = true;
            }
            if cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            std::thread::sleep(RETRY);
        }
    }

    /// Take the lock if no other process holds it.
    pub fn try_acquire(self: &Arc<Self>, activity: &str) -> Result<Option<WriteGuard>> {
        let mut slot = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_some() {
            self.depth.fetch_add(1, Ordering::SeqCst);
            return Ok(Some(WriteGuard { lock: self.clone() }));
        }
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&self.path)
            .map_err(|e| Error::io(&self.path, e))?;
        // SAFETY: flock on a descriptor this function owns.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                return Ok(None);
            }
            return Err(Error::io(&self.path, e));
        }
        // Who holds it, for whoever waits. Not needed for correctness.
        let _ = file.set_len(0).and_then(|()| write!(file, "{}\n{activity}\n", std::process::id())).and_then(|()| file.flush());
        *slot = Some(file);
        self.depth.fetch_add(1, Ordering::SeqCst);
        Ok(Some(WriteGuard { lock: self.clone() }))
    }

    /// "photofinder (pid 4711), which is indexing this library", from the lock file.
    fn holder(&self) -> String {
        let mut text = String::new();
        let _ = File::open(&self.path).and_then(|mut f| f.seek(SeekFrom::Start(0)).and_then(|_| f.read_to_string(&mut text)));
        let mut lines = text.lines();
        match (lines.next().and_then(|p| p.trim().parse::<u32>().ok()), lines.next()) {
            (Some(pid), Some(activity)) => format!("photofinder (pid {pid}), which is {activity} this library"),
            _ => "another photofinder, which is changing this library".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_waits_and_the_first_can_reenter() {
        let dir = tempfile::tempdir().unwrap();
        let first = WriterLock::new(dir.path());
        let second = WriterLock::new(dir.path());
        let outer = first.try_acquire("indexing").unwrap().expect("free");
        let inner = first.try_acquire("indexing").unwrap().expect("re-entrant");
        assert!(second.try_acquire("adding folders to").unwrap().is_none(), "a second writer must wait");
        assert_eq!(second.holder(), format!("photofinder (pid {}), which is indexing this library", std::process::id()));
        drop(inner);
        assert!(second.try_acquire("adding folders to").unwrap().is_none(), "still held by the outer guard");
        drop(outer);

        let told = Mutex::new(Vec::new());
        let sink = |e: Event| told.lock().unwrap().push(e);
        let held = second.acquire("adding folders to", &sink, &Cancel::new()).unwrap();
        assert!(told.lock().unwrap().is_empty(), "nobody held it: no waiting message");
        let cancel = Cancel::new();
        cancel.cancel();
        assert!(matches!(first.acquire("indexing", &sink, &cancel), Err(Error::Cancelled)));
        assert!(matches!(&told.lock().unwrap()[..], [Event::WaitingForWriter { holder }] if holder.contains("adding folders to")));
        drop(held);
    }
}
