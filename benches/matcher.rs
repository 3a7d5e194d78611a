//! Matcher throughput (MiB/s). The keyword search alone runs on four realistic inputs of about
//! 4 MiB each, each beside a plain memchr over the same bytes (the bandwidth bound): source code
//! (the Rust and C sources of the local cargo registry), minified JavaScript and configuration
//! files (both generated, deterministically), and a keyword-dense buffer (this crate's own sources
//! and rules, dense with words like `secret`, `key` and `token`, plus a few planted secrets). The
//! whole matcher and scanner run on the keyword-dense buffer.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use leaksweep::matcher::{Matcher, Scratch};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};

/// The size of every input.
const SIZE: usize = 4 << 20;

/// This crate's sources and rules with a few planted secrets, repeated to [`SIZE`].
fn keyword_dense() -> Vec<u8> {
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
        for p in sorted_entries(Path::new(dir)) {
            if p.is_file() {
                base.extend(std::fs::read(&p).unwrap_or_default());
            }
        }
    }
    base.extend_from_slice(
        b"server:\n  port: 8080\nlogging:\n  level: info\nFEATURE_FLAGS=beta,search\nNODE_ENV=production\n\
          JWT_SECRET=Qm9vZ1Jx7vT2pLkW9sX4nC8yH3eF6aJ1dG5uZ0bV2iM\n\
          DATABASE_URL=postgres://app:Xk29vPqLw7RzT4mN@db.internal:5432/app\n\
          const token = jwt.sign({ sub: 1 }, process.env.JWT_SECRET);\n",
    );
    let mut out = Vec::with_capacity(SIZE + base.len());
    while out.len() < SIZE {
        out.extend_from_slice(&base);
    }
    out.truncate(SIZE);
    out
}

/// The entries of `dir`, sorted by path (none when it cannot be read).
fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    entries
}

/// The first [`SIZE`] bytes of the `.rs`, `.c`, `.h`, `.md` and `.toml` files under the cargo
/// registry's unpacked sources, in sorted path order; `None` when there are not enough.
fn registry_sources() -> Option<Vec<u8>> {
    let home = std::env::var_os("CARGO_HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    let mut out = Vec::with_capacity(SIZE);
    let mut stack = vec![home.join("registry/src")];
    // Depth first in sorted order: reversed onto the stack, so the smallest path comes off first.
    while let Some(p) = stack.pop() {
        if out.len() >= SIZE {
            break;
        }
        if p.is_dir() {
            stack.extend(sorted_entries(&p).into_iter().rev());
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| ["rs", "c", "h", "md", "toml"].contains(&e))
        {
            out.extend(std::fs::read(&p).unwrap_or_default());
        }
    }
    (out.len() >= SIZE).then(|| {
        out.truncate(SIZE);
        out
    })
}

/// Picks one of `items`.
fn pick<'a>(rng: &mut StdRng, items: &[&'a str]) -> &'a str {
    items[rng.gen_range(0..items.len())]
}

/// A short minifier-style identifier: one or two letters, sometimes with a digit or `$`.
fn short_name(rng: &mut StdRng) -> String {
    const FIRST: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$";
    const NEXT: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$";
    let mut s = String::new();
    s.push(FIRST[rng.gen_range(0..FIRST.len())] as char);
    if rng.gen_bool(0.4) {
        s.push(NEXT[rng.gen_range(0..NEXT.len())] as char);
    }
    s
}

/// Minified JavaScript, generated from a fixed seed: a bundle of module functions on very long
/// lines, with short names, property accesses on real API and library names, string literals
/// (messages, URLs, CSS classes), numbers and the odd base64 data URI.
fn minified_js() -> Vec<u8> {
    const PROPS: &[&str] = &[
        "prototype",
        "length",
        "call",
        "apply",
        "push",
        "createElement",
        "addEventListener",
        "querySelector",
        "getAttribute",
        "setAttribute",
        "className",
        "innerHTML",
        "style",
        "default",
        "exports",
        "__esModule",
        "defineProperty",
        "hasOwnProperty",
        "forEach",
        "map",
        "filter",
        "reduce",
        "then",
        "catch",
        "resolve",
        "reject",
        "state",
        "props",
        "setState",
        "children",
        "render",
        "useEffect",
        "useState",
        "useRef",
        "current",
        "value",
        "target",
        "preventDefault",
        "toString",
        "indexOf",
        "slice",
        "replace",
        "split",
        "join",
        "keys",
        "assign",
        "getItem",
        "setItem",
        "headers",
        "Authorization",
        "token",
        "accessToken",
        "apiKey",
        "secret",
        "password",
        "session",
        "cookie",
        "config",
        "baseURL",
        "timeout",
        "response",
        "data",
        "status",
        "message",
        "error",
        "request",
        "fetch",
        "json",
        "method",
        "body",
        "credentials",
        "clientId",
        "authorization_code",
        "redirect_uri",
        "scope",
    ];
    const WORDS: &[&str] = &[
        "return",
        "function",
        "var",
        "let",
        "const",
        "new",
        "this",
        "typeof",
        "void 0",
        "null",
        "!0",
        "!1",
        "instanceof",
        "delete",
    ];
    const STRINGS: &[&str] = &[
        "\"use strict\"",
        "\"object\"",
        "\"function\"",
        "\"undefined\"",
        "\"click\"",
        "\"Content-Type\"",
        "\"application/json\"",
        "\"Bearer \"",
        "\"btn btn-primary\"",
        "\"https://api.example.com/v2/\"",
        "\"Invalid token\"",
        "\"password\"",
        "\"div\"",
        "\"data-id\"",
        "'Cannot read property '",
        "\"/static/js/\"",
        "\"px\"",
        "\"hidden\"",
        "\"localStorage\"",
        "\"X-Requested-With\"",
        "\"GET\"",
        "\"POST\"",
        "\"aria-label\"",
        "\"Expected a function\"",
        "\"%s must be a string\"",
        "\"ms\"",
        "\"auth\"",
    ];
    const OPS: &[&str] = &[
        "=", "===", "!==", "&&", "||", "?", ":", "+", "-", "*", "/", "<", ">=", "|", "&", ",",
    ];
    let mut rng = StdRng::seed_from_u64(0x6a73);
    let mut out = Vec::with_capacity(SIZE + 4096);
    let mut module = 0u32;
    while out.len() < SIZE {
        // One module per iteration: `123:function(e,t,n){...},`, a line break every few dozen.
        module += 1;
        let mut s = format!("{}:function(e,t,n){{\"use strict\";", module);
        for _ in 0..rng.gen_range(8..40) {
            let a = short_name(&mut rng);
            let b = short_name(&mut rng);
            match rng.gen_range(0..8) {
                0 => s += &format!("var {a}=n({});", rng.gen_range(1..2000)),
                1 => {
                    s += &format!(
                        "{a}.{}={b}.{};",
                        pick(&mut rng, PROPS),
                        pick(&mut rng, PROPS)
                    )
                }
                2 => {
                    s += &format!(
                        "if({a}{}{b}){{{} {a}.{}({})}}",
                        pick(&mut rng, OPS),
                        pick(&mut rng, WORDS),
                        pick(&mut rng, PROPS),
                        pick(&mut rng, STRINGS)
                    )
                }
                3 => {
                    s += &format!(
                        "function {a}({b},r){{return {b}[{}]{}r.{}}}",
                        pick(&mut rng, STRINGS),
                        pick(&mut rng, OPS),
                        pick(&mut rng, PROPS)
                    )
                }
                4 => {
                    s += &format!(
                        "{a}={{{}:{},{}:{b}.{},{}:{}}},",
                        pick(&mut rng, PROPS),
                        pick(&mut rng, STRINGS),
                        pick(&mut rng, PROPS),
                        pick(&mut rng, PROPS),
                        pick(&mut rng, PROPS),
                        rng.gen_range(0..100_000)
                    )
                }
                5 => {
                    s += &format!(
                        "{a}.{}(function({b}){{{b}.{}()}}),",
                        pick(&mut rng, PROPS),
                        pick(&mut rng, PROPS)
                    )
                }
                6 if rng.gen_bool(0.05) => {
                    const B64: &[u8] =
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
                    s += "url(\"data:image/png;base64,";
                    for _ in 0..rng.gen_range(40..400) {
                        s.push(B64[rng.gen_range(0..64)] as char);
                    }
                    s += "\")";
                }
                _ => {
                    s += &format!(
                        "{a}{}{b}.{}({}.{}),",
                        pick(&mut rng, OPS),
                        pick(&mut rng, PROPS),
                        short_name(&mut rng),
                        pick(&mut rng, PROPS)
                    )
                }
            }
        }
        s += "},";
        if module.is_multiple_of(40) {
            s.push('\n');
        }
        out.extend_from_slice(s.as_bytes());
    }
    out.truncate(SIZE);
    out
}

/// Configuration files, generated from a fixed seed: YAML, INI, `.env` and Java properties, with
/// keys of the usual kinds (hosts, ports, flags, paths, credentials) and values to match.
fn config_files() -> Vec<u8> {
    const SECTIONS: &[&str] = &[
        "server", "database", "logging", "cache", "auth", "mail", "storage", "metrics", "queue",
        "features", "api", "session", "cors", "tls",
    ];
    const KEYS: &[&str] = &[
        "host",
        "port",
        "enabled",
        "timeout",
        "level",
        "path",
        "url",
        "username",
        "password",
        "user",
        "name",
        "max_connections",
        "pool_size",
        "retries",
        "region",
        "bucket",
        "endpoint",
        "client_id",
        "client_secret",
        "api_key",
        "token",
        "secret_key",
        "access_key_id",
        "format",
        "file",
        "ttl",
        "driver",
        "schema",
        "ssl_mode",
        "cert_file",
        "key_file",
        "debug",
        "workers",
    ];
    let mut rng = StdRng::seed_from_u64(0xc0f1);
    let value = |rng: &mut StdRng, key: &str| -> String {
        match key {
            "port" => rng.gen_range(1024..65535).to_string(),
            "enabled" | "debug" => pick(rng, &["true", "false", "yes", "no"]).to_string(),
            "host" | "endpoint" | "url" => format!(
                "{}.{}.internal",
                pick(rng, &["db", "cache", "api", "auth", "mq"]),
                pick(rng, &["prod", "staging", "dev"])
            ),
            "password" | "client_secret" | "api_key" | "token" | "secret_key" => {
                if rng.gen_bool(0.7) {
                    format!("${{{}}}", key.to_ascii_uppercase())
                } else {
                    (0..rng.gen_range(16..40))
                        .map(|_| {
                            let c =
                                b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
                            c[rng.gen_range(0..c.len())] as char
                        })
                        .collect()
                }
            }
            "path" | "file" | "cert_file" | "key_file" => format!(
                "/etc/{}/{}.{}",
                pick(rng, SECTIONS),
                pick(rng, &["server", "client", "app", "main"]),
                pick(rng, &["pem", "conf", "log", "crt"])
            ),
            _ => pick(
                rng,
                &[
                    "info",
                    "json",
                    "postgres",
                    "us-east-1",
                    "30s",
                    "100",
                    "8",
                    "utf-8",
                    "app",
                ],
            )
            .to_string(),
        }
    };
    let mut out = Vec::with_capacity(SIZE + 4096);
    while out.len() < SIZE {
        let mut s = String::new();
        let keys: Vec<&str> = (0..rng.gen_range(3..10))
            .map(|_| pick(&mut rng, KEYS))
            .collect();
        let section = pick(&mut rng, SECTIONS);
        match rng.gen_range(0..4) {
            0 => {
                s += &format!("# {section} settings\n{section}:\n");
                for k in keys {
                    s += &format!("  {k}: {}\n", value(&mut rng, k));
                }
            }
            1 => {
                s += &format!("[{section}]\n");
                for k in keys {
                    s += &format!("{k} = {}\n", value(&mut rng, k));
                }
                s.push('\n');
            }
            2 => {
                for k in keys {
                    let v = value(&mut rng, k);
                    s += &format!(
                        "{}_{}={v}\n",
                        section.to_ascii_uppercase(),
                        k.to_ascii_uppercase()
                    );
                }
            }
            _ => {
                s += &format!("# {section}\n");
                for k in keys {
                    s += &format!(
                        "app.{section}.{}={}\n",
                        k.replace('_', "-"),
                        value(&mut rng, k)
                    );
                }
            }
        }
        out.extend_from_slice(s.as_bytes());
    }
    out.truncate(SIZE);
    out
}

/// The keyword search and memchr on each input.
fn bench_keywords(c: &mut Criterion, matcher: &Matcher) {
    let mut inputs = vec![
        ("minified-js", minified_js()),
        ("config", config_files()),
        ("keyword-dense", keyword_dense()),
    ];
    match registry_sources() {
        Some(data) => inputs.insert(0, ("source", data)),
        None => eprintln!("no cargo registry sources (CARGO_HOME/registry/src): skipping `source`"),
    }
    let mut group = c.benchmark_group("keywords");
    group.sample_size(20);
    for (name, data) in &inputs {
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_function(format!("search/{name}"), |b| {
            b.iter(|| matcher.keyword_hits(data))
        });
        group.bench_function(format!("memchr/{name}"), |b| {
            b.iter(|| memchr::memchr_iter(b'\n', data).count())
        });
    }
    group.finish();
}

fn bench(c: &mut Criterion) {
    let rules = leaksweep::rules::builtin().expect("built-in rules");
    let matcher = Matcher::new(rules).expect("matcher");
    bench_keywords(c, &matcher);
    let data = keyword_dense();
    let mut group = c.benchmark_group("matcher");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sample_size(20);
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
