//! A progress bar on stderr for long runs, shown only when stderr is a terminal (so CI logs
//! and pipes stay clean) and the run is not `-q`.

use std::io::IsTerminal;
use std::sync::{Mutex, OnceLock};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Below this many files a run is too short for a bar to help.
const MIN_FILES: usize = 500;

pub struct Progress(Option<ProgressBar>);

impl Progress {
    pub fn new(len: usize, what: &'static str, quiet: bool) -> Progress {
        if quiet || len < MIN_FILES || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{msg:>9} [{bar:30}] {pos}/{len} files")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(what);
        Progress(Some(bar))
    }

    pub fn tick(&self) {
        if let Some(bar) = &self.0 {
            bar.inc(1);
        }
    }

    /// Clears the bar (dropping it does too).
    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// Phase timings on stderr when `APIMFIX_TIMINGS` is set: where a bulk run spends its time
/// and memory (docs/benchmark.md quotes them); resident memory is read on
/// Linux only. Off, it costs one environment lookup per run.
pub struct Timings(Option<std::time::Instant>);

impl Timings {
    pub fn start() -> Timings {
        Timings(std::env::var_os("APIMFIX_TIMINGS").map(|_| std::time::Instant::now()))
    }

    /// Says how long since the start, and restarts the clock.
    pub fn mark(&mut self, phase: &str) {
        if let Some(start) = &mut self.0 {
            let resident = std::fs::read_to_string("/proc/self/statm")
                .ok()
                .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<u64>().ok())
                .map(|pages| format!(", {} MB resident", pages * 4096 / 1_000_000))
                .unwrap_or_default();
            // The process's own high-water mark (reset by exec, unlike a parent's rusage,
            // which counts what a child shared with its parent before exec).
            let peak = std::fs::read_to_string("/proc/self/status")
                .ok()
                .and_then(|status| {
                    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
                    line.split_whitespace().nth(1)?.parse::<u64>().ok()
                })
                .map(|kib| format!(", peak {kib} kB"))
                .unwrap_or_default();
            eprintln!(
                "apimfix: timing: {phase}: {:.1} ms{resident}{peak}",
                start.elapsed().as_secs_f64() * 1e3
            );
            *start = std::time::Instant::now();
        }
    }
}

/// What a run of the engine shows while it goes: the bar while reading, and the timings.
pub struct Shown {
    quiet: bool,
    timings: Mutex<Timings>,
    bar: OnceLock<Progress>,
}

impl Shown {
    /// Starts the clock of the timings.
    pub fn start(quiet: bool) -> Shown {
        Shown {
            quiet,
            timings: Mutex::new(Timings::start()),
            bar: OnceLock::new(),
        }
    }
}

impl apimfix::engine::Observer for Shown {
    fn phase(&self, name: &str) {
        if let Ok(mut timings) = self.timings.lock() {
            timings.mark(name);
        }
    }

    fn reading(&self, total: usize) {
        let _ = self.bar.set(Progress::new(total, "reading", self.quiet));
    }

    fn read_one(&self) {
        if let Some(bar) = self.bar.get() {
            bar.tick();
        }
    }

    fn reading_done(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish();
        }
    }
}
