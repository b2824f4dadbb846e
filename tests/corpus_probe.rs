#[test]
fn probe() {
    let root = std::path::Path::new("../shared/corpus");
    let mut n = 0;
    let mut bad = 0;
    for entry in walk(root) {
        let bytes = std::fs::read(&entry).unwrap();
        n += 1;
        match apimfix::syntax::parse_bytes(bytes.clone(), &Default::default()) {
            Ok(doc) => {
                assert_eq!(doc.print().as_bytes(), &bytes[..], "{}", entry.display());
                if let Err(e) = doc.check_tiling() {
                    println!("TILING {}: {e}", entry.display());
                    bad += 1;
                }
            }
            Err(e) => {
                bad += 1;
                println!(
                    "ERR {}: {:?} {} at {:?}",
                    entry.display(),
                    e.kind,
                    e.message,
                    e.range
                );
            }
        }
    }
    println!("{n} files, {bad} bad");
}
fn walk(p: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(p).unwrap() {
        let e = e.unwrap().path();
        if e.is_dir() {
            out.extend(walk(&e));
        } else if e.extension().is_some_and(|x| x == "xml") {
            out.push(e);
        }
    }
    out
}
