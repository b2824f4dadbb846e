//! Resource bounds of a run (issue 16): memory that does not grow with the square of the file
//! count, reads that stop at the size limit, special files refused at once.

use crate::common::{TestDir, apimfix_std};

/// Peak resident memory of `cmd`'s process alone, in KiB. `wait4` on the one child, not
/// `RUSAGE_CHILDREN`: the test binary runs other tests' children at the same time.
#[cfg(target_os = "linux")]
fn peak_rss_kib(cmd: &mut std::process::Command) -> (i32, i64) {
    let child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: zeroed rusage is a valid value for wait4 to fill; `pid` is our own child, which
    // `std` will not wait for since `child` is forgotten below.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    std::mem::forget(child);
    assert_eq!(waited, pid, "wait4");
    (libc::WEXITSTATUS(status), usage.ru_maxrss)
}

/// Issue 16 item 2: files outside any APIOps repo went in batches split off one vector that
/// kept its whole capacity each time: 10,000 files took 222 MB, 40,000 took 3.35 GB.
#[cfg(target_os = "linux")]
#[test]
fn loose_files_memory_stays_linear() {
    let t = TestDir::new();
    let dir = t.path().join("loose");
    std::fs::create_dir(&dir).unwrap();
    for i in 0..20_000 {
        std::fs::write(
            dir.join(format!("p{i:05}.xml")),
            "<policies><inbound><base /></inbound></policies>\n",
        )
        .unwrap();
    }
    let mut cmd = apimfix_std();
    cmd.current_dir(t.path()).args(["check", "-q", "loose"]);
    let (code, kib) = peak_rss_kib(&mut cmd);
    assert!(code <= 1, "exit {code}");
    // The fixed run peaks near 60 MB; the quadratic one passed 700 MB.
    assert!(
        kib < 200 * 1024,
        "peak RSS {kib} KiB for 20,000 loose files"
    );
}
