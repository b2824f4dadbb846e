//! Interrupted writes (issue 16 item 4): our temporary files go with the run on SIGINT or
//! SIGTERM, and those a killed run left are named by later runs and removed by writing ones.

use std::time::{Duration, Instant, SystemTime};

use crate::common::{TestDir, apimfix_std};

fn temps_in(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".apimfix-"))
        .collect()
}

#[cfg(target_os = "linux")]
#[test]
fn a_signal_during_write_leaves_no_temp_file() {
    use std::os::unix::process::ExitStatusExt;
    const UNFORMATTED: &str = "<policies><inbound><base /></inbound></policies>\n";
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let t = TestDir::new();
        let dir = t.path().join("loose");
        std::fs::create_dir(&dir).unwrap();
        for i in 0..4000 {
            std::fs::write(dir.join(format!("p{i:04}.xml")), UNFORMATTED).unwrap();
        }
        let mut child = apimfix_std()
            .current_dir(t.path())
            .args(["fmt", "--write", "-q", "loose"])
            .spawn()
            .expect("spawn");
        // Signalled as soon as its first temporary file shows.
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = false;
        while Instant::now() < deadline && child.try_wait().unwrap().is_none() {
            if !temps_in(&dir).is_empty() {
                seen = true;
                // SAFETY: signalling our own child.
                unsafe { libc::kill(child.id() as libc::pid_t, signal) };
                break;
            }
        }
        let status = child.wait().unwrap();
        assert!(seen, "the run ended before writing: {status:?}");
        assert_eq!(status.signal(), Some(signal), "{status:?}");
        assert_eq!(temps_in(&dir), Vec::<String>::new(), "signal {signal}");
        let formatted =
            "<policies>\n    <inbound>\n        <base />\n    </inbound>\n</policies>\n";
        for entry in std::fs::read_dir(&dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            assert!(text == UNFORMATTED || text == formatted, "{text:?}");
        }
    }
}

#[test]
fn stray_temp_files_are_named_then_removed_by_a_writing_run() {
    let t = TestDir::new();
    t.write("apis/a/policy.xml", "<policies />\n");
    let old = t.write("apis/a/.apimfix-Ab12Cd.tmp", "<poli");
    let fresh = t.write("apis/a/.apimfix-Zz98Yy.tmp", "");
    // Not ours: a name that only looks alike.
    let other = t.write("apis/a/.apimfix-notes.tmp", "mine");
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(hour_ago)
        .unwrap();

    let run = t.run(&["check", "."]);
    assert!(
        run.stderr.contains(
            "warning: apis/a/.apimfix-Ab12Cd.tmp: a temporary file left by an interrupted apimfix run; `apimfix fmt --write` or `fix --write` on its folder removes it"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("apis/a/.apimfix-Zz98Yy.tmp"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("notes"), "{}", run.stderr);
    assert!(old.exists());

    let run = t.run(&["fmt", "--write", "."]);
    assert!(
        run.stderr.contains(
            "warning: apis/a/.apimfix-Ab12Cd.tmp: removed a temporary file left by an interrupted apimfix run"
        ),
        "{}",
        run.stderr
    );
    assert!(!old.exists());
    // Too recent to be sure no run is writing it.
    assert!(fresh.exists(), "{}", run.stderr);
    assert!(other.exists());
}
