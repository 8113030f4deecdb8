//! Measurements that need a process of their own: startup time, and memory
//! (peak and idle resident set) read from /proc while it runs.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// `photofinder` with the library and models given.
pub fn cli(binary: &Path, library: &Path, models: &Path) -> Command {
    let mut c = Command::new(binary);
    c.arg("--library").arg(library).arg("--models").arg(models).arg("--quiet");
    c.stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

/// Resident memory of a live process, in bytes: (current, peak).
pub fn rss(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .map(|kib| kib * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Run to the end; returns wall seconds and the peak resident memory seen.
pub fn run_measured(mut cmd: Command) -> Result<(f64, u64)> {
    let started = Instant::now();
    let mut child = cmd.spawn().with_context(|| format!("cannot start {cmd:?}"))?;
    let mut peak = 0;
    loop {
        if let Some((_, hwm)) = rss(child.id()) {
            peak = peak.max(hwm);
        }
        if let Some(status) = child.try_wait()? {
            let seconds = started.elapsed().as_secs_f64();
            if !status.success() {
                bail!("{cmd:?} failed ({status}): {}", stderr_of(&mut child));
            }
            return Ok((seconds, peak));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Start a long-running process and wait until its memory settles (the same
/// to within 1% for `settle`), then return (settled RSS, peak so far); the
/// process is killed.
pub fn idle_memory(mut cmd: Command, settle: Duration, limit: Duration) -> Result<(u64, u64)> {
    let mut child = cmd.spawn().with_context(|| format!("cannot start {cmd:?}"))?;
    let started = Instant::now();
    let (mut last, mut since) = (0u64, Instant::now());
    let result = loop {
        std::thread::sleep(Duration::from_millis(250));
        if let Some(status) = child.try_wait()? {
            break Err(anyhow::anyhow!("{cmd:?} ended early ({status}): {}", stderr_of(&mut child)));
        }
        let Some((now, peak)) = rss(child.id()) else { continue };
        if now.abs_diff(last) * 100 > last {
            (last, since) = (now, Instant::now());
        } else if since.elapsed() >= settle {
            break Ok((now, peak));
        }
        if started.elapsed() > limit {
            break Err(anyhow::anyhow!("{cmd:?}: memory still changing after {limit:?}"));
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    result
}

fn stderr_of(child: &mut Child) -> String {
    use std::io::Read;
    let mut s = String::new();
    if let Some(e) = child.stderr.as_mut() {
        let _ = e.read_to_string(&mut s);
    }
    s.trim().to_string()
}
