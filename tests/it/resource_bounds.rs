//! Resource bounds of a run (issue 16): memory that does not grow with the square of the file
//! count, reads that stop at the size limit, special files refused at once.

use crate::common::{TestDir, apimfix_std};

/// The exit code of `cmd` and its peak resident memory in KiB, as the process itself reads
/// it (`APIMFIX_TIMINGS`: `VmHWM`, which exec resets). The rusage a parent gets from `wait4`
/// also counts what a forked child shared with the test binary before exec: a full test run
/// made that hundreds of MB.
#[cfg(target_os = "linux")]
fn peak_rss_kib(cmd: &mut std::process::Command) -> (i32, i64) {
    let out = cmd
        .env("APIMFIX_TIMINGS", "1")
        .stdout(std::process::Stdio::null())
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let peak = stderr
        .lines()
        .filter_map(|l| {
            l.split(", peak ")
                .nth(1)?
                .strip_suffix(" kB")?
                .parse::<i64>()
                .ok()
        })
        .max()
        .unwrap_or_else(|| panic!("no peak in the timings: {stderr}"));
    (out.status.code().unwrap_or(-1), peak)
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
    if code > 1 {
        // Again, to show why.
        let run = apimfix_std()
            .current_dir(t.path())
            .args(["check", "-q", "loose"])
            .output()
            .unwrap();
        panic!(
            "exit {code}; again: exit {:?}: {}",
            run.status.code(),
            String::from_utf8_lossy(&run.stderr)
        );
    }
    // The fixed run peaks near 60 MB; the quadratic one passed 700 MB.
    assert!(
        kib < 200 * 1024,
        "peak RSS {kib} KiB for 20,000 loose files"
    );
}

/// Runs `cmd`, killing it after `secs`: `None` if it had to be killed.
fn output_within(cmd: &mut std::process::Command, secs: u64) -> Option<std::process::Output> {
    output_within_from(cmd.stdin(std::process::Stdio::null()), secs)
}

/// [`output_within`] with the stdin `cmd` was given.
fn output_within_from(cmd: &mut std::process::Command, secs: u64) -> Option<std::process::Output> {
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if child.try_wait().expect("try_wait").is_some() {
            return Some(child.wait_with_output().expect("output"));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Issue 16 item 3: a FIFO named on the command line hung the run, and `/dev/zero` was read
/// until memory ran out. Both are refused at once; the other file is still checked.
#[cfg(target_os = "linux")]
#[test]
fn special_files_are_refused_at_once() {
    let t = TestDir::new();
    let fifo = t.path().join("pipe.xml");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    t.write(
        "good.xml",
        "<policies><inbound><base /></inbound></policies>\n",
    );
    t.write("bad.xml", "<policies>\n");
    let out = output_within(
        apimfix_std().current_dir(t.path()).args([
            "check",
            "pipe.xml",
            "/dev/zero",
            "good.xml",
            "bad.xml",
        ]),
        30,
    )
    .expect("no hang on a FIFO or /dev/zero");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("pipe.xml: error: is a FIFO (named pipe), not a regular file"),
        "{stderr}"
    );
    assert!(
        stderr.contains("/dev/zero: error: is a character device, not a regular file"),
        "{stderr}"
    );
    // The other files are still read: the broken one is reported.
    assert!(
        stderr.contains("bad.xml:1:1: error: unclosed element"),
        "{stderr}"
    );
}

/// A file over the limit is refused from its metadata, before it is read.
#[test]
fn a_file_over_the_limit_is_not_read() {
    let t = TestDir::new();
    let big = t.path().join("big.xml");
    let f = std::fs::File::create(&big).unwrap();
    // Sparse: 50 MB that take no disk.
    f.set_len(50 * 1024 * 1024).unwrap();
    let run = t.run(&["check", "big.xml"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains(
            "big.xml:1:1: error: file too large: 52428800 bytes, the limit is 8388608 bytes"
        ),
        "{}",
        run.stderr
    );
}

#[cfg(target_os = "linux")]
#[test]
fn stdin_is_read_no_further_than_the_size_limit() {
    // `/dev/zero` on stdin never ends: read in full, it grew until killed.
    let zero = std::fs::File::open("/dev/zero").unwrap();
    let mut cmd = apimfix_std();
    cmd.args(["check", "-"]).stdin(zero);
    let out = output_within_from(&mut cmd, 20).expect("a bounded read ends at once");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("file too large"), "{stderr}");
}

/// Many policies in one Terraform file: each policy's result held its own copy of the host
/// text, so memory grew with the square of the policies (1,000 took 526 MB).
#[cfg(target_os = "linux")]
#[test]
fn many_policies_in_one_host_keep_memory_linear() {
    let t = TestDir::new();
    let mut text = String::new();
    for i in 0..1000 {
        text.push_str(&format!(
            "resource \"azurerm_api_management_api_policy\" \"p{i}\" {{\n  api_name = \"api{i}\"\n  xml_content = <<XML\n<policies>\n  <inbound>\n    <set-header name=\"x\" exists-action=\"override\"><value>1</value></set-header>\n  </inbound>\n  <backend><base /></backend>\n  <outbound><base /></outbound>\n  <on-error><base /></on-error>\n</policies>\nXML\n}}\n\n"
        ));
    }
    t.write("big.tf", &text);
    let mut cmd = apimfix_std();
    cmd.current_dir(t.path()).args(["check", "-q", "."]);
    let (code, kib) = peak_rss_kib(&mut cmd);
    assert_eq!(code, 1, "one finding per policy");
    assert!(
        kib < 150 * 1024,
        "peak RSS {kib} KiB for 1,000 policies in one host"
    );
}
