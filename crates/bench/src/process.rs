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

/// CPU time a live process has used, in clock ticks (1/100 s on Linux).
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which may hold spaces, closed by ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// Start a long-running process and wait until it is idle: for `settle`,
/// its memory the same to within 1% and under 2% of a core busy. Returns
/// (idle RSS, peak RSS so far); the process is then killed.
pub fn idle_memory(mut cmd: Command, settle: Duration, limit: Duration) -> Result<(u64, u64)> {
    let mut child = cmd.spawn().with_context(|| format!("cannot start {cmd:?}"))?;
    let started = Instant::now();
    let (mut rss_then, mut cpu_then, mut since) = (0u64, 0u64, Instant::now());
    let result = loop {
        std::thread::sleep(Duration::from_millis(250));
        if let Some(status) = child.try_wait()? {
            break Err(anyhow::anyhow!("{cmd:?} ended early ({status}): {}", stderr_of(&mut child)));
        }
        let (Some((now, peak)), Some(cpu)) = (rss(child.id()), cpu_ticks(child.id())) else { continue };
        let busy = (cpu - cpu_then) as f64 / 100.0 > since.elapsed().as_secs_f64() * 0.02;
        if busy || now.abs_diff(rss_then) * 100 > rss_then {
            (rss_then, cpu_then, since) = (now, cpu, Instant::now());
        } else if since.elapsed() >= settle {
            break Ok((now, peak));
        }
        if started.elapsed() > limit {
            break Err(anyhow::anyhow!("{cmd:?}: still busy after {limit:?}"));
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

/// The desktop app's engine on `library`, warmed (model and store loaded,
/// as after its first query), left idle until killed: what `idle_memory`
/// measures. Runs in the child process that `photofinder bench` starts.
pub fn serve_idle(library: &Path, models: &photofinder_core::ModelDir, model: &str) -> Result<()> {
    let (dir, models_for_engine) = (library.to_path_buf(), models.clone());
    let engine = photofinder_core::Engine::start(
        move || photofinder_core::Library::open(&dir, models_for_engine),
        photofinder_core::WatchOptions::default(),
        |_| {},
    )?;
    let model = model.to_string();
    engine.call(move |lib| {
        lib.use_model(&model)?;
        lib.warm()
    })?;
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
