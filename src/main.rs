//! The `apimfix` binary: parses the command line, runs it, and maps the outcome to the exit
//! code: 0 nothing to report, 1 findings or changes pending, 2 errors.

mod cli;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    no_transparent_huge_pages();
    let args = cli::args::Cli::parse();
    let stdout = std::io::stdout();
    let mut out = PipeSafe(std::io::BufWriter::new(stdout.lock()));
    let result = cli::run(&args, &mut out).and_then(|outcome| {
        out.flush()?;
        Ok(outcome)
    });
    match result {
        Ok(cli::Outcome::Clean) => ExitCode::SUCCESS,
        Ok(cli::Outcome::Pending) => ExitCode::from(1),
        Ok(cli::Outcome::Error) => ExitCode::from(2),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("apimfix: error: {e}");
            ExitCode::from(2)
        }
    }
}

/// A run is short and allocates in small pieces: transparent huge pages make each first touch
/// of memory zero 2 MiB, and on a fragmented machine stall for compaction, which made one
/// bulk run in ten take 40% longer. Asked of the kernel for this process only.
#[cfg(target_os = "linux")]
fn no_transparent_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes integers only and reads or writes no memory of ours;
    // a kernel without it returns an error, which changes nothing.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(not(target_os = "linux"))]
fn no_transparent_huge_pages() {}

/// Stdout that stops writing, silently, once the reader has gone (`apimfix check | head`):
/// the run still finishes, so its exit code tells what it found, as a CI step with
/// `pipefail` expects.
struct PipeSafe<W: Write>(W);

impl<W: Write> Write for PipeSafe<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.write(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(buf.len()),
            other => other,
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.0.flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }
}

/// `apimfix check | head` closes the pipe early; that is not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
