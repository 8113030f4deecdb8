//! A `Library` on a thread of its own, for front ends that must never block.
//!
//! The engine thread owns the library and its watcher. Between watcher steps
//! it runs the front end's calls (searches, settings, folder changes); a call
//! that arrives while photos are being indexed stops the step at the next
//! batch, runs, and the step resumes where it stopped. So a query answers in
//! milliseconds even while a large folder is indexed, and indexing can be
//! paused, resumed or stopped at any time.
//!
//! What happens is reported as `Notice`s: problems as they occur, progress
//! at most ten times a second, and library changes gathered into counts, so
//! that indexing 100k photos does not flood a window with 100k messages.
//!
//! Sits above `Library` and `watch`; front ends talk to the engine, never to
//! the thread.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::explore::{ExploreOptions, Map, Plan};
use crate::library::Library;
use crate::progress::{Cancel, Event, Phase, Progress};
use crate::watch::{self, WatchOptions, Watcher};
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
#[ts(tag = "state", rename_all = "snake_case")]
pub enum EngineState {
    Idle,
    Indexing,
    Paused,
    /// Background work stopped on an error it cannot get past by itself
    /// (a model missing, say); `resume` tries again.
    Failed { error: String },
}

/// How many photos a stretch of background work added, changed, moved and removed.
#[derive(Debug, Default, Clone, PartialEq, Serialize, TS)]
pub struct Changes {
    pub added: u64,
    pub changed: u64,
    pub moved: u64,
    pub removed: u64,
    /// Paths of the latest changes, newest last, at most `RECENT`.
    #[serde(serialize_with = "crate::paths::lossy_vec")]
    pub recent: Vec<PathBuf>,
}

const RECENT: usize = 50;

#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    /// Problems and folder changes, as they happen.
    Event { event: Event },
    /// The current job's progress; `done` counts the whole job, across
    /// pauses and interruptions by queries.
    Progress { progress: Progress },
    State { state: EngineState },
    /// Photos came, went or changed since the last such notice.
    Changed { changes: Changes },
}

type Notify = Box<dyn Fn(Notice) + Send + Sync>;
type Call = Box<dyn FnOnce(&mut Library) + Send>;

enum Msg {
    Call(Call),
    Pause,
    Resume,
    Stop,
    Rescan,
    Shutdown,
}

/// What callers share with the engine thread.
struct Control {
    /// The running step's cancel flag: calls set it to get the thread's attention.
    current: Mutex<Cancel>,
    /// Calls sent but not yet run; the thread does not start a step while any wait.
    waiting: AtomicUsize,
    paused: AtomicBool,
    /// The latest state, for a front end that opens after it was announced.
    state: Mutex<EngineState>,
    /// The map being laid out in the background, if one is: its cancel flag.
    mapping: Mutex<Option<Cancel>>,
}

/// A handle on the engine thread; clones share it.
#[derive(Clone)]
pub struct Engine {
    tx: mpsc::Sender<Msg>,
    control: Arc<Control>,
    thread: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl Engine {
    /// Open the library on a new thread (`open` runs there: a library need
    /// not be `Send`), start watching its folders and catch up with the disk.
    pub fn start(
        open: impl FnOnce() -> Result<Library> + Send + 'static,
        options: WatchOptions,
        notify: impl Fn(Notice) + Send + Sync + 'static,
    ) -> Result<Engine> {
        let (tx, rx) = mpsc::channel();
        let control = Arc::new(Control {
            current: Mutex::new(Cancel::new()),
            waiting: AtomicUsize::new(0),
            paused: AtomicBool::new(false),
            state: Mutex::new(EngineState::Idle),
            mapping: Mutex::new(None),
        });
        let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<()>>(1);
        let thread_control = control.clone();
        let thread = std::thread::Builder::new()
            .name("photofinder-engine".into())
            .spawn(move || {
                let relay = Relay::new(Box::new(notify));
                let mut lib = match open() {
                    Ok(lib) => lib,
                    Err(e) => return drop(ready_tx.send(Err(e))),
                };
                let sink = |e: Event| relay.event(e);
                let watcher = match Watcher::new(&mut lib, options, &sink) {
                    Ok(w) => w,
                    Err(e) => return drop(ready_tx.send(Err(e))),
                };
                let _ = ready_tx.send(Ok(()));
                let worker =
                    Worker { lib, watcher, control: &thread_control, relay: &relay, state: EngineState::Idle };
                worker.run(rx);
            })
            .map_err(|e| Error::Internal(format!("cannot start the engine thread: {e}")))?;
        ready_rx.recv().map_err(|_| Error::Closed("the engine thread ended while starting".into()))??;
        Ok(Engine { tx, control, thread: Arc::new(Mutex::new(Some(thread))) })
    }

    /// Run `f` on the library and wait for its answer. Background work
    /// makes way for it and resumes afterwards.
    pub fn call<R: Send + 'static>(&self, f: impl FnOnce(&mut Library) -> Result<R> + Send + 'static) -> Result<R> {
        let (reply_tx, reply_rx) = mpsc::sync_channel(1);
        self.control.waiting.fetch_add(1, Ordering::SeqCst);
        let call: Call = Box::new(move |lib| {
            let _ = reply_tx.send(f(lib));
        });
        if self.tx.send(Msg::Call(call)).is_err() {
            self.control.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(Error::Closed("the library has been closed".into()));
        }
        self.interrupt();
        reply_rx.recv().map_err(|_| Error::Closed("the library stopped while answering".into()))?
    }

    /// The library's map, answered at once. Where a new layout is due it is
    /// made on a thread of its own (progress to `sink`) while the engine
    /// goes on answering calls and indexing; meanwhile the answer is the old
    /// map with new photos placed on it (or an empty one), marked `pending`,
    /// and `done` is told when the new one is in place (`map` then answers
    /// with it) or why there is none. One layout runs at a time.
    pub fn map(
        &self,
        options: ExploreOptions,
        sink: impl Fn(Event) + Send + Sync + 'static,
        done: impl FnOnce(Result<()>) + Send + 'static,
    ) -> Result<Map> {
        let (plan, job) = self.call(move |lib| lib.plan_map(&options))?;
        let stale = match plan {
            Plan::Current(map) => return Ok(map),
            Plan::Due { stale } => stale.unwrap_or_else(|| Map::pending(&job.spec.name, job.options.layout)),
        };
        let cancel = {
            let mut mapping = self.control.mapping.lock().unwrap();
            if mapping.is_some() {
                return Ok(stale); // the layout under way will tell
            }
            let cancel = Cancel::new();
            *mapping = Some(cancel.clone());
            cancel
        };
        let engine = self.clone();
        let spawned = std::thread::Builder::new().name("photofinder-map".into()).spawn(move || {
            let result = job.run(&sink, &cancel).and_then(|laid| engine.call(move |lib| lib.adopt_map(&job, laid)));
            *engine.control.mapping.lock().unwrap() = None;
            done(result.map(|_| ()));
        });
        if let Err(e) = spawned {
            *self.control.mapping.lock().unwrap() = None;
            return Err(Error::Internal(format!("cannot start the map's thread: {e}")));
        }
        Ok(stale)
    }

    /// Stop the map being laid out in the background, if one is.
    pub fn stop_map(&self) {
        if let Some(cancel) = self.control.mapping.lock().unwrap().as_ref() {
            cancel.cancel();
        }
    }

    pub fn state(&self) -> EngineState {
        self.control.state.lock().unwrap().clone()
    }

    /// Hold background indexing (watching goes on; changes queue up).
    pub fn pause(&self) {
        self.control.paused.store(true, Ordering::SeqCst);
        self.send(Msg::Pause);
    }

    pub fn resume(&self) {
        self.control.paused.store(false, Ordering::SeqCst);
        self.send(Msg::Resume);
    }

    /// Stop the current indexing job. Photos not reached stay waiting in the
    /// catalog; `rescan` (or the next start) indexes them.
    pub fn stop(&self) {
        self.send(Msg::Stop);
    }

    /// Scan every folder again and index what is new or waiting.
    pub fn rescan(&self) {
        self.send(Msg::Rescan);
    }

    /// End the engine thread, letting it settle held files; waits for it.
    pub fn shutdown(&self) {
        let handle = self.thread.lock().unwrap().take();
        if let Some(handle) = handle {
            self.send(Msg::Shutdown);
            let _ = handle.join();
        }
    }

    fn send(&self, msg: Msg) {
        let _ = self.tx.send(msg);
        self.interrupt();
    }

    fn interrupt(&self) {
        self.control.current.lock().unwrap().cancel();
    }
}

struct Worker<'a> {
    lib: Library,
    watcher: Watcher,
    control: &'a Control,
    relay: &'a Relay,
    state: EngineState,
}

impl Worker<'_> {
    fn run(mut self, rx: mpsc::Receiver<Msg>) {
        loop {
            // Calls first: they are what a person is waiting for.
            loop {
                match rx.try_recv() {
                    Ok(msg) => {
                        if !self.handle(msg) {
                            return self.finish();
                        }
                    }
                    Err(mpsc::TryRecvError::Empty) => break,
                    Err(mpsc::TryRecvError::Disconnected) => return self.finish(),
                }
            }
            let paused = self.control.paused.load(Ordering::SeqCst);
            if paused || !self.watcher.has_work() {
                if !paused && self.state == EngineState::Indexing {
                    self.relay.job_done();
                    self.set_state(EngineState::Idle);
                }
                // Idle: wake for a call at once, for file events every 50 ms.
                match rx.recv_timeout(Duration::from_millis(50)) {
                    Ok(msg) => {
                        if !self.handle(msg) {
                            return self.finish();
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => return self.finish(),
                }
                if let Err(e) = self.watcher.wait(Duration::ZERO) {
                    log::warn!("engine: {e}");
                }
                continue;
            }
            let cancel = Cancel::new();
            *self.control.current.lock().unwrap() = cancel.clone();
            // A call sent before the flag above was in place could not
            // interrupt the step: serve it first.
            if self.control.waiting.load(Ordering::SeqCst) > 0 {
                continue;
            }
            if self.watcher.has_queued() {
                self.set_state(EngineState::Indexing);
            }
            let sink = |e: Event| self.relay.event(e);
            let result = self.watcher.step(&mut self.lib, &sink, &cancel);
            match result {
                Ok(()) => self.relay.flush(),
                Err(Error::Cancelled) => self.relay.interrupted(),
                Err(e) if watch::is_fatal(&e) => {
                    self.control.paused.store(true, Ordering::SeqCst);
                    self.relay.job_done();
                    self.set_state(EngineState::Failed { error: e.to_string() });
                }
                Err(e) => {
                    log::warn!("engine: {e}");
                    self.relay.notify(Notice::Event {
                        event: Event::Unreadable { path: self.lib.dir.clone(), error: e.to_string() },
                    });
                    self.relay.flush();
                }
            }
        }
    }

    /// Returns false when the engine is to end.
    fn handle(&mut self, msg: Msg) -> bool {
        let sink = |e: Event| self.relay.event(e);
        match msg {
            Msg::Call(call) => {
                let model = self.lib.model().to_string();
                call(&mut self.lib);
                self.control.waiting.fetch_sub(1, Ordering::SeqCst);
                // Folders added or removed, a model switched: follow suit.
                if let Err(e) = self.watcher.refresh(&mut self.lib, &sink) {
                    log::warn!("engine: {e}");
                }
                if self.lib.model() != model {
                    self.watcher.request_rescan("the model changed");
                }
            }
            Msg::Pause => self.set_state(EngineState::Paused),
            Msg::Resume => {
                if matches!(self.state, EngineState::Paused | EngineState::Failed { .. }) {
                    self.set_state(EngineState::Idle);
                }
            }
            Msg::Stop => {
                self.watcher.clear();
                self.relay.job_done();
            }
            Msg::Rescan => self.watcher.request_rescan("asked for"),
            Msg::Shutdown => return false,
        }
        true
    }

    fn set_state(&mut self, next: EngineState) {
        if self.state != next {
            self.state = next.clone();
            *self.control.state.lock().unwrap() = next.clone();
            self.relay.notify(Notice::State { state: next });
        }
    }

    fn finish(mut self) {
        let sink = |e: Event| self.relay.event(e);
        if let Err(e) = self.watcher.finish(&mut self.lib, &sink) {
            log::warn!("engine: {e}");
        }
        self.relay.flush();
    }
}

/// Turns the library's events into notices: progress throttled and counted
/// across interruptions, changes gathered.
struct Relay {
    notify: Notify,
    inner: Mutex<RelayState>,
}

#[derive(Default)]
struct RelayState {
    /// Photos embedded by earlier, interrupted steps of the current job.
    carried: u64,
    last: Option<Progress>,
    last_progress_sent: Option<Instant>,
    changes: Changes,
    last_changes_sent: Option<Instant>,
}

const PROGRESS_EVERY: Duration = Duration::from_millis(100);
const CHANGES_EVERY: Duration = Duration::from_millis(500);

impl Relay {
    fn new(notify: Notify) -> Relay {
        Relay { notify, inner: Mutex::new(RelayState::default()) }
    }

    fn notify(&self, notice: Notice) {
        (self.notify)(notice)
    }

    fn event(&self, event: Event) {
        let mut s = self.inner.lock().unwrap();
        match event {
            Event::Progress(mut p) => {
                if p.phase == Phase::Embedding {
                    p.done += s.carried;
                    p.total += s.carried;
                }
                let due = s.last_progress_sent.is_none_or(|t| t.elapsed() >= PROGRESS_EVERY) || p.done >= p.total;
                s.last = Some(p.clone());
                if due {
                    s.last_progress_sent = Some(Instant::now());
                    drop(s);
                    self.notify(Notice::Progress { progress: p });
                }
                return;
            }
            Event::Added { path } => s.changes.note(path, |c| &mut c.added),
            Event::Changed { path } => s.changes.note(path, |c| &mut c.changed),
            Event::Removed { path } => s.changes.note(path, |c| &mut c.removed),
            Event::Moved { to, .. } => s.changes.note(to, |c| &mut c.moved),
            other => {
                drop(s);
                self.notify(Notice::Event { event: other });
                return;
            }
        }
        if s.changes != Changes::default() && s.last_changes_sent.is_none_or(|t| t.elapsed() >= CHANGES_EVERY) {
            let changes = std::mem::take(&mut s.changes);
            s.last_changes_sent = Some(Instant::now());
            drop(s);
            self.notify(Notice::Changed { changes });
        }
    }

    /// Send what is gathered.
    fn flush(&self) {
        let mut s = self.inner.lock().unwrap();
        let progress = s.last.clone().filter(|_| s.last_progress_sent.is_some());
        let changes = std::mem::take(&mut s.changes);
        s.last_changes_sent = Some(Instant::now());
        drop(s);
        if let Some(progress) = progress {
            self.notify(Notice::Progress { progress });
        }
        if changes != Changes::default() {
            self.notify(Notice::Changed { changes });
        }
    }

    /// A step stopped part way: the job goes on later, counting from here.
    fn interrupted(&self) {
        let mut s = self.inner.lock().unwrap();
        if let Some(p) = s.last.take().filter(|p| p.phase == Phase::Embedding) {
            s.carried = p.done;
        }
        drop(s);
        self.flush();
    }

    /// The job is over (finished or stopped): the next one counts from zero.
    fn job_done(&self) {
        self.flush();
        let mut s = self.inner.lock().unwrap();
        s.carried = 0;
        s.last = None;
        s.last_progress_sent = None;
    }
}

impl Changes {
    fn note(&mut self, path: PathBuf, count: impl Fn(&mut Changes) -> &mut u64) {
        *count(self) += 1;
        if self.recent.len() == RECENT {
            self.recent.remove(0);
        }
        self.recent.push(path);
    }
}
