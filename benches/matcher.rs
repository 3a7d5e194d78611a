//! Matcher throughput (MB/s) over a mixed, realistic buffer: this crate's own sources and rules
//! (code dense with words like `secret`, `key` and `token`), config-file shaped text, and a few
//! planted secrets, repeated to about 4 MiB.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use leaksweep::matcher::{Matcher, Scratch};

fn corpus() -> Vec<u8> {
    let mut base = Vec::new();
    for dir in [
        "src",
        "src/matcher",
        "src/rules",
        "src/report",
        "src/source",
        "src/cmd",
        "rules",
        "tests",
    ] {
        let Ok(rd) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut entries: Vec<_> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        entries.sort();
        for p in entries {
            base.extend(std::fs::read(&p).unwrap_or_default());
        }
    }
    base.extend_from_slice(
        b"server:\n  port: 8080\nlogging:\n  level: info\nFEATURE_FLAGS=beta,search\nNODE_ENV=production\n\
          JWT_SECRET=Qm9vZ1Jx7vT2pLkW9sX4nC8yH3eF6aJ1dG5uZ0bV2iM\n\
          DATABASE_URL=postgres://app:Xk29vPqLw7RzT4mN@db.internal:5432/app\n\
          const token = jwt.sign({ sub: 1 }, process.env.JWT_SECRET);\n",
    );
    let mut out = Vec::with_capacity(4 << 20);
    while out.len() < 4 << 20 {
        out.extend_from_slice(&base);
    }
    out
}

fn bench(c: &mut Criterion) {
    let rules = leaksweep::rules::builtin().expect("built-in rules");
    let matcher = Matcher::new(rules).expect("matcher");
    let data = corpus();
    let mut group = c.benchmark_group("matcher");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sample_size(20);
    // The keyword search alone, and a plain memchr over the same buffer: the bandwidth bound.
    group.bench_function("prefilter-keywords-4MiB", |b| {
        b.iter(|| matcher.keyword_hits(&data))
    });
    group.bench_function("memchr-newlines-4MiB", |b| {
        b.iter(|| memchr::memchr_iter(b'\n', &data).count())
    });
    group.bench_function("mixed-4MiB", |b| {
        let mut scratch = Scratch::default();
        b.iter(|| matcher.scan(&data, None, &mut scratch).len())
    });
    // The whole per-blob path (matcher + decode pass + findings), with decoding on (the default,
    // depth 2) and off, to keep the decode pass's cost visible.
    for depth in [0usize, 2] {
        let rules = leaksweep::rules::builtin().expect("built-in rules");
        let opts = leaksweep::matcher::MatchOptions {
            decode_depth: depth,
            ..Default::default()
        };
        let scanner =
            leaksweep::scan::Scanner::new(Matcher::new(rules).expect("matcher").with_options(opts));
        group.bench_function(format!("scanner-4MiB-decode-{depth}"), |b| {
            let mut scratch = Scratch::default();
            b.iter(|| {
                scanner
                    .scan_blob(
                        &leaksweep::scan::Blob::file(&data, "bench.txt"),
                        &mut scratch,
                    )
                    .len()
            })
        });
    }
    group.bench_function("startup-build-matcher", |b| {
        b.iter(|| {
            Matcher::new(leaksweep::rules::builtin().expect("rules"))
                .expect("matcher")
                .rules()
                .len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
