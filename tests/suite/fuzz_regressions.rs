//! Replays every saved fuzz input (`testdata/fuzz-regressions/<target>/*`: crashes, timeouts and
//! interesting seeds found by `fuzz/run.sh`) through the fuzz targets' own code
//! (`fuzz/checks.rs`), so a fixed crash stays fixed without cargo-fuzz or nightly.

#[path = "../../fuzz/checks.rs"]
mod checks;

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/fuzz-regressions")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("regression dir") {
        let path = entry.expect("entry").path();
        if path.file_name().is_some_and(|n| n == "README.md") {
            continue;
        }
        let data = std::fs::read(&path).expect("read input");
        eprintln!("{target}: {}", path.display());
        check(&data);
        n += 1;
    }
    eprintln!("{target}: {n} inputs");
}

#[test]
fn matcher() {
    replay("matcher", checks::matcher);
}

#[test]
fn rules_loader() {
    replay("rules_loader", checks::rules_loader);
}

#[test]
fn dotenv_editor() {
    replay("dotenv_editor", checks::dotenv_editor);
}

#[test]
fn report_reader() {
    replay("report_reader", checks::report_reader);
}
