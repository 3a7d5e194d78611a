//! Archives inside scanned files: the zip family (zip, jar, war, apk, docx, xlsx, ...), tar, and
//! gzip, bzip2 or xz (alone or around a tar), expanded in memory and handed on member by member,
//! each named `outer.zip!inner/dir/file`.
//!
//! Archives are attacker-controlled input, so every expansion is bounded: nesting depth, members
//! per archive, bytes per member, bytes expanded per archive and bytes expanded per scan (a budget
//! shared by every thread). Whatever a bound stops is reported as a [`Skip`], never dropped
//! silently, and a corrupt archive is a skip of that archive, not an error of the scan. Nesting is
//! walked with an explicit stack, not recursion.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};

/// The separator between an archive's name and a member's path.
pub const SEPARATOR: char = '!';

/// Archive levels opened by default (`--archive-depth`).
pub const DEFAULT_DEPTH: usize = 2;

/// Bytes all archives of one scan may expand to, together (the shared [`Budget`]).
pub const SCAN_BUDGET: u64 = 2 * 1024 * 1024 * 1024;

/// How far archives are opened.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Archive levels opened: 0 opens none, 1 opens archives but not archives inside them.
    pub max_depth: usize,
    /// Members read from one top-level archive, nested ones included.
    pub max_entries: usize,
    /// Bytes of one member once expanded (larger members are skipped as too large).
    pub max_member: u64,
    /// Bytes expanded from one top-level archive, nested ones included.
    pub max_expanded: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: DEFAULT_DEPTH,
            max_entries: 100_000,
            max_member: 10 * 1024 * 1024,
            max_expanded: 256 * 1024 * 1024,
        }
    }
}

/// Bytes every archive of one scan may still expand, shared by all threads.
#[derive(Debug)]
pub struct Budget(AtomicU64);

impl Budget {
    pub fn new(bytes: u64) -> Self {
        Budget(AtomicU64::new(bytes))
    }

    /// Takes `n` bytes; false (taking nothing) when fewer remain.
    fn take(&self, n: u64) -> bool {
        self.0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(n)
            })
            .is_ok()
    }

    pub fn remaining(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Limits {
    /// The limits of a scan: `depth` levels, members up to `max_member` bytes (the scan's
    /// `--max-file-size`), the default counts and totals.
    pub fn scan(depth: usize, max_member: u64) -> Self {
        Limits {
            max_depth: depth,
            max_member,
            ..Limits::default()
        }
    }
}

/// A container format, recognised by its leading bytes (never by its name alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Zip,
    Tar,
    Gzip,
    Bzip2,
    Xz,
}

/// The archive format `data` starts with, if any.
pub fn detect(data: &[u8]) -> Option<Format> {
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        Some(Format::Zip)
    } else if data.starts_with(&[0x1f, 0x8b]) {
        Some(Format::Gzip)
    } else if data.len() >= 10 && data.starts_with(b"BZh") && (b'1'..=b'9').contains(&data[3]) {
        Some(Format::Bzip2)
    } else if data.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Some(Format::Xz)
    } else if data.len() >= 512 && &data[257..262] == b"ustar" {
        Some(Format::Tar)
    } else {
        None
    }
}

/// Why part of an archive was not scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipKind {
    /// An archive nested deeper than `max_depth`.
    Depth,
    /// A member larger than `max_member` once expanded.
    TooLarge,
    /// The archive's `max_expanded` or the scan's budget ran out.
    Budget,
    /// The archive has more than `max_entries` members.
    Entries,
    /// Encrypted members cannot be read.
    Encrypted,
    /// The archive (or one member) is damaged or uses a method we cannot read.
    Unreadable,
}

impl SkipKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipKind::Depth => "archive-depth",
            SkipKind::TooLarge => "archive-member-too-large",
            SkipKind::Budget => "archive-expansion-limit",
            SkipKind::Entries => "archive-entry-limit",
            SkipKind::Encrypted => "archive-encrypted",
            SkipKind::Unreadable => "archive-unreadable",
        }
    }
}

/// One thing an expansion passed over: its display path, why, and a detail for `-v`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub path: String,
    pub kind: SkipKind,
    pub detail: String,
}

/// What one expansion did.
#[derive(Debug, Default)]
pub struct Expanded {
    /// Members handed to the visitor.
    pub members: usize,
    /// Bytes expanded (members and nested archives).
    pub bytes: u64,
    pub skips: Vec<Skip>,
}

/// Expands the archive `data` (shown as `path`) and calls `visit(display_path, bytes)` for every
/// member that is not itself an archive opened in turn. Returns `None` when `data` is not an
/// archive or `limits.max_depth` is 0.
pub fn expand(
    path: &str,
    data: &[u8],
    limits: &Limits,
    budget: &Budget,
    visit: &mut dyn FnMut(&str, &[u8]),
) -> Option<Expanded> {
    let format = detect(data)?;
    if limits.max_depth == 0 {
        return None;
    }
    let mut run = Run {
        limits,
        budget,
        out: Expanded::default(),
        entries: 0,
    };
    // Work stack of (display path, format, bytes, depth). The top level borrows `data`; nested
    // archives own their expanded bytes.
    let mut stack: Stack = Vec::new();
    run.open(path, format, data, 1, &mut stack, visit);
    while let Some((name, format, bytes, depth)) = stack.pop() {
        run.open(&name, format, &bytes, depth, &mut stack, visit);
    }
    Some(run.out)
}

/// Nested archives still to open: (display path, format, bytes, depth).
type Stack = Vec<(String, Format, Vec<u8>, usize)>;

struct Run<'a> {
    limits: &'a Limits,
    budget: &'a Budget,
    out: Expanded,
    entries: usize,
}

/// A writer that refuses to grow past `cap` bytes.
struct Capped {
    buf: Vec<u8>,
    cap: u64,
    over: bool,
}

impl Write for Capped {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        if self.buf.len() as u64 + b.len() as u64 > self.cap {
            self.over = true;
            return Err(io::Error::other("over the cap"));
        }
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

enum Read1 {
    Data(Vec<u8>),
    TooLarge,
    Budget,
    Failed(String),
}

impl Run<'_> {
    fn skip(&mut self, path: &str, kind: SkipKind, detail: impl Into<String>) {
        self.out.skips.push(Skip {
            path: path.to_string(),
            kind,
            detail: detail.into(),
        });
    }

    /// The most one member may expand to now: the member cap, this archive's remaining bytes.
    fn room(&self) -> u64 {
        self.limits
            .max_member
            .min(self.limits.max_expanded.saturating_sub(self.out.bytes))
    }

    /// Reads one member (or one decompressed stream) within the caps and charges the budgets.
    fn read(&mut self, mut r: impl Read) -> Read1 {
        let room = self.room();
        let mut buf = Vec::new();
        if let Err(e) = (&mut r).take(room + 1).read_to_end(&mut buf) {
            return Read1::Failed(e.to_string());
        }
        self.charge(buf, room)
    }

    /// What a stream stopped at `room` bytes means: too large when the member cap was the
    /// bound, out of budget when the archive's expansion limit was.
    fn over(&self, room: u64) -> Read1 {
        if room < self.limits.max_member {
            Read1::Budget
        } else {
            Read1::TooLarge
        }
    }

    fn charge(&mut self, buf: Vec<u8>, room: u64) -> Read1 {
        let n = buf.len() as u64;
        if n > room {
            return self.over(room);
        }
        if !self.budget.take(n) {
            return Read1::Budget;
        }
        self.out.bytes += n;
        Read1::Data(buf)
    }

    /// Hands one member on: opened in turn when it is an archive within the depth, else visited.
    fn member(
        &mut self,
        name: String,
        data: Vec<u8>,
        depth: usize,
        stack: &mut Stack,
        visit: &mut dyn FnMut(&str, &[u8]),
    ) {
        match detect(&data) {
            Some(f) if depth < self.limits.max_depth => stack.push((name, f, data, depth + 1)),
            Some(_) => self.skip(
                &name,
                SkipKind::Depth,
                format!("archive nested deeper than {}", self.limits.max_depth),
            ),
            None => {
                self.out.members += 1;
                visit(&name, &data);
            }
        }
    }

    /// Counts one member against `max_entries`; false (with a skip recorded once) past it.
    fn count_entry(&mut self, archive: &str) -> bool {
        self.entries += 1;
        if self.entries == self.limits.max_entries + 1 {
            self.skip(
                archive,
                SkipKind::Entries,
                format!("more than {} members", self.limits.max_entries),
            );
        }
        self.entries <= self.limits.max_entries
    }

    fn open(
        &mut self,
        name: &str,
        format: Format,
        data: &[u8],
        depth: usize,
        stack: &mut Stack,
        visit: &mut dyn FnMut(&str, &[u8]),
    ) {
        match format {
            Format::Zip => self.zip(name, data, depth, stack, visit),
            Format::Tar => self.tar(name, data, depth, stack, visit),
            Format::Gzip | Format::Bzip2 | Format::Xz => {
                let read = match format {
                    Format::Gzip => self.read(flate2::read::MultiGzDecoder::new(data)),
                    Format::Bzip2 => self.read(bzip2::read::MultiBzDecoder::new(data)),
                    _ => self.xz(data),
                };
                let inner = match read {
                    Read1::Data(d) => d,
                    Read1::TooLarge => {
                        let max = self.limits.max_member;
                        return self.skip(
                            name,
                            SkipKind::TooLarge,
                            format!("expands past {max} bytes"),
                        );
                    }
                    Read1::Budget => {
                        return self.skip(name, SkipKind::Budget, "expansion limit reached")
                    }
                    Read1::Failed(e) => return self.skip(name, SkipKind::Unreadable, e),
                };
                if !self.count_entry(name) {
                    return;
                }
                if detect(&inner) == Some(Format::Tar) {
                    // `a.tar.gz!dir/file`: the tar inside a compressed stream is the same level.
                    self.tar(name, &inner, depth, stack, visit);
                } else {
                    let member = format!("{name}{SEPARATOR}{}", decompressed_name(name));
                    self.member(member, inner, depth, stack, visit);
                }
            }
        }
    }

    fn xz(&mut self, data: &[u8]) -> Read1 {
        let room = self.room();
        let mut out = Capped {
            buf: Vec::new(),
            cap: room,
            over: false,
        };
        match lzma_rs::xz_decompress(&mut io::BufReader::new(data), &mut out) {
            Ok(()) => self.charge(out.buf, room),
            Err(_) if out.over => self.over(room),
            Err(e) => Read1::Failed(format!("xz: {e}")),
        }
    }

    fn zip(
        &mut self,
        name: &str,
        data: &[u8],
        depth: usize,
        stack: &mut Stack,
        visit: &mut dyn FnMut(&str, &[u8]),
    ) {
        let mut zip = match zip::ZipArchive::new(io::Cursor::new(data)) {
            Ok(z) => z,
            Err(e) => return self.skip(name, SkipKind::Unreadable, format!("zip: {e}")),
        };
        for i in 0..zip.len() {
            // The raw view names the member and tells a directory or an encrypted member apart
            // without trying to decompress it.
            let (member, is_dir, encrypted) = match zip.by_index_raw(i) {
                Ok(f) => (
                    format!("{name}{SEPARATOR}{}", String::from_utf8_lossy(f.name_raw())),
                    f.is_dir(),
                    f.encrypted(),
                ),
                Err(e) => {
                    self.skip(name, SkipKind::Unreadable, format!("zip member {i}: {e}"));
                    continue;
                }
            };
            if is_dir {
                continue;
            }
            if !self.count_entry(name) {
                return;
            }
            if encrypted {
                self.skip(&member, SkipKind::Encrypted, "encrypted zip member");
                continue;
            }
            let mut file = match zip.by_index(i) {
                Ok(f) => f,
                Err(e) => {
                    self.skip(&member, SkipKind::Unreadable, format!("zip: {e}"));
                    continue;
                }
            };
            let read = self.read(&mut file);
            if !self.take(member, read, depth, stack, visit) {
                return;
            }
        }
    }

    /// Hands on one member as read, or records why not; false when the budget is spent (the
    /// rest of the archive cannot be read either).
    fn take(
        &mut self,
        member: String,
        read: Read1,
        depth: usize,
        stack: &mut Stack,
        visit: &mut dyn FnMut(&str, &[u8]),
    ) -> bool {
        match read {
            Read1::Data(d) => self.member(member, d, depth, stack, visit),
            Read1::TooLarge => {
                let max = self.limits.max_member;
                self.skip(
                    &member,
                    SkipKind::TooLarge,
                    format!("larger than {max} bytes"),
                )
            }
            Read1::Budget => {
                self.skip(&member, SkipKind::Budget, "expansion limit reached");
                return false;
            }
            Read1::Failed(e) => self.skip(&member, SkipKind::Unreadable, e),
        }
        true
    }

    fn tar(
        &mut self,
        name: &str,
        data: &[u8],
        depth: usize,
        stack: &mut Stack,
        visit: &mut dyn FnMut(&str, &[u8]),
    ) {
        let mut archive = tar::Archive::new(data);
        let entries = match archive.entries() {
            Ok(e) => e,
            Err(e) => return self.skip(name, SkipKind::Unreadable, format!("tar: {e}")),
        };
        for entry in entries {
            let mut entry = match entry {
                Ok(e) => e,
                Err(e) => return self.skip(name, SkipKind::Unreadable, format!("tar: {e}")),
            };
            let kind = entry.header().entry_type();
            if !(kind.is_file() || kind == tar::EntryType::Continuous) {
                continue;
            }
            if !self.count_entry(name) {
                return;
            }
            let member = format!(
                "{name}{SEPARATOR}{}",
                String::from_utf8_lossy(&entry.path_bytes())
            );
            let read = self.read(&mut entry);
            if !self.take(member, read, depth, stack, visit) {
                return;
            }
        }
    }
}

/// The name a compressed file's content goes by: `notes.txt.gz` holds `notes.txt`.
fn decompressed_name(name: &str) -> String {
    let base = name.rsplit(['/', SEPARATOR]).next().unwrap_or(name);
    for (ext, to) in [
        (".tgz", ".tar"),
        (".tbz2", ".tar"),
        (".txz", ".tar"),
        (".gz", ""),
        (".bz2", ""),
        (".xz", ""),
    ] {
        if base.len() > ext.len() && base.to_ascii_lowercase().ends_with(ext) {
            return format!("{}{to}", &base[..base.len() - ext.len()]);
        }
    }
    base.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        for (name, data) in members {
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn tar_of(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in members {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn bz2(data: &[u8]) -> Vec<u8> {
        let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn xz(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        lzma_rs::xz_compress(&mut io::BufReader::new(data), &mut out).unwrap();
        out
    }

    /// Every (path, content) visited, and the expansion's record.
    fn run(path: &str, data: &[u8], limits: &Limits) -> (Vec<(String, Vec<u8>)>, Expanded) {
        let budget = Budget::new(u64::MAX);
        run_with(path, data, limits, &budget)
    }

    fn run_with(
        path: &str,
        data: &[u8],
        limits: &Limits,
        budget: &Budget,
    ) -> (Vec<(String, Vec<u8>)>, Expanded) {
        let mut seen = Vec::new();
        let out = expand(path, data, limits, budget, &mut |p, d| {
            seen.push((p.to_string(), d.to_vec()))
        })
        .expect("an archive");
        seen.sort();
        (seen, out)
    }

    fn kinds(e: &Expanded) -> Vec<(String, SkipKind)> {
        e.skips.iter().map(|s| (s.path.clone(), s.kind)).collect()
    }

    #[test]
    fn every_format_names_its_members() {
        let env: &[u8] = b"JWT_SECRET=abc\n";
        let members: &[(&str, &[u8])] = &[("app/.env", env), ("README", b"hi\n")];
        let want = |outer: &str| {
            vec![
                (format!("{outer}!README"), b"hi\n".to_vec()),
                (format!("{outer}!app/.env"), env.to_vec()),
            ]
        };
        let l = Limits::default();
        assert_eq!(run("a.zip", &zip_of(members), &l).0, want("a.zip"));
        assert_eq!(run("a.tar", &tar_of(members), &l).0, want("a.tar"));
        assert_eq!(
            run("a.tar.gz", &gz(&tar_of(members)), &l).0,
            want("a.tar.gz")
        );
        assert_eq!(run("a.tbz2", &bz2(&tar_of(members)), &l).0, want("a.tbz2"));
        assert_eq!(
            run("a.tar.xz", &xz(&tar_of(members)), &l).0,
            want("a.tar.xz")
        );
        let (seen, out) = run("logs/app.env.gz", &gz(env), &l);
        assert_eq!(
            seen,
            vec![("logs/app.env.gz!app.env".to_string(), env.to_vec())]
        );
        assert_eq!(
            (out.members, out.bytes, out.skips.len()),
            (1, env.len() as u64, 0)
        );
    }

    #[test]
    fn not_an_archive_or_depth_zero_is_none() {
        let budget = Budget::new(u64::MAX);
        let mut visit = |_: &str, _: &[u8]| panic!("nothing to visit");
        assert!(expand(
            "a.zip",
            b"PK but not really",
            &Limits::default(),
            &budget,
            &mut visit
        )
        .is_none());
        let no = Limits {
            max_depth: 0,
            ..Limits::default()
        };
        assert!(expand("a.zip", &zip_of(&[("x", b"y")]), &no, &budget, &mut visit).is_none());
    }

    #[test]
    fn nesting_stops_at_the_depth_and_says_so() {
        let inner = zip_of(&[("deep.txt", b"k=v\n")]);
        let middle = zip_of(&[("inner.zip", &inner), ("mid.txt", b"m\n")]);
        let outer = tar_of(&[("middle.zip", &middle)]);
        let two = Limits::default();
        let (seen, out) = run("o.tar", &outer, &two);
        let names: Vec<_> = seen.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(names, ["o.tar!middle.zip!mid.txt"]);
        assert_eq!(
            kinds(&out),
            [("o.tar!middle.zip!inner.zip".to_string(), SkipKind::Depth)]
        );
        let three = Limits {
            max_depth: 3,
            ..Limits::default()
        };
        let (seen, out) = run("o.tar", &outer, &three);
        let names: Vec<_> = seen.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "o.tar!middle.zip!inner.zip!deep.txt",
                "o.tar!middle.zip!mid.txt"
            ]
        );
        assert!(out.skips.is_empty());
    }

    #[test]
    fn a_bomb_is_stopped_at_each_bound() {
        let zeros = vec![0u8; 4 << 20];
        let l = Limits {
            max_member: 1 << 20,
            max_expanded: 3 << 20,
            ..Limits::default()
        };
        // One member past the member cap, in every compressed form.
        for (name, data) in [
            ("z.gz", gz(&zeros)),
            ("z.bz2", bz2(&zeros)),
            ("z.xz", xz(&zeros)),
        ] {
            let (seen, out) = run(name, &data, &l);
            assert!(seen.is_empty(), "{name}");
            assert_eq!(
                kinds(&out),
                [(name.to_string(), SkipKind::TooLarge)],
                "{name}"
            );
        }
        let (_, out) = run("z.zip", &zip_of(&[("zeros", &zeros)]), &l);
        assert_eq!(
            kinds(&out),
            [("z.zip!zeros".to_string(), SkipKind::TooLarge)]
        );
        // Members each under the cap, together past the archive's limit.
        let mb = vec![b'a'; 1 << 20];
        let many: Vec<(String, &[u8])> = (0..5).map(|i| (format!("m{i}"), &mb[..])).collect();
        let many: Vec<(&str, &[u8])> = many.iter().map(|(n, d)| (n.as_str(), *d)).collect();
        let (seen, out) = run("m.zip", &zip_of(&many), &l);
        assert_eq!(seen.len(), 3);
        assert_eq!(kinds(&out), [("m.zip!m3".to_string(), SkipKind::Budget)]);
        assert!(out.bytes <= l.max_expanded);
        // The scan's budget is shared: a second archive gets what the first left.
        let budget = Budget::new((1 << 20) + 10);
        let (seen, _) = run_with("a.zip", &zip_of(&many[..1]), &l, &budget);
        assert_eq!(seen.len(), 1);
        let (seen, out) = run_with("b.zip", &zip_of(&many[..1]), &l, &budget);
        assert!(seen.is_empty());
        assert_eq!(kinds(&out), [("b.zip!m0".to_string(), SkipKind::Budget)]);
        assert_eq!(budget.remaining(), 10);
    }

    #[test]
    fn entry_count_is_capped_once() {
        let names: Vec<String> = (0..10).map(|i| format!("f{i}")).collect();
        let members: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
        let l = Limits {
            max_entries: 4,
            ..Limits::default()
        };
        for (name, data) in [("e.zip", zip_of(&members)), ("e.tar", tar_of(&members))] {
            let (seen, out) = run(name, &data, &l);
            assert_eq!(seen.len(), 4, "{name}");
            assert_eq!(
                kinds(&out),
                [(name.to_string(), SkipKind::Entries)],
                "{name}"
            );
        }
    }

    #[test]
    fn encrypted_members_are_skipped_by_name() {
        let mut z = zip_of(&[("secret.txt", b"pw=1\n")]);
        // Set bit 0 (encrypted) of the general-purpose flags in the local and central headers.
        let local = z.windows(4).position(|w| w == b"PK\x03\x04").unwrap();
        z[local + 6] |= 1;
        let central = z.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
        z[central + 8] |= 1;
        let (seen, out) = run("e.zip", &z, &Limits::default());
        assert!(seen.is_empty());
        assert_eq!(
            kinds(&out),
            [("e.zip!secret.txt".to_string(), SkipKind::Encrypted)]
        );
    }

    #[test]
    fn damaged_archives_are_skips_never_panics() {
        use rand::{Rng, SeedableRng};
        let seed: u64 = std::env::var("LEAKSWEEP_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(rand::random);
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let tarball = tar_of(&[("a", b"1\n"), ("b", &[7u8; 3000])]);
        let samples = [
            zip_of(&[("a", b"1\n"), ("b", &[7u8; 3000])]),
            tarball.clone(),
            gz(&tarball),
            bz2(&tarball),
            xz(&tarball),
        ];
        let l = Limits::default();
        for sample in &samples {
            for _ in 0..60 {
                let mut d = sample.clone();
                match rng.gen_range(0..3) {
                    0 => d.truncate(rng.gen_range(6..d.len())),
                    _ => {
                        for _ in 0..rng.gen_range(1..8) {
                            let i = rng.gen_range(4..d.len());
                            d[i] = rng.gen();
                        }
                    }
                }
                let budget = Budget::new(u64::MAX);
                let r = std::panic::catch_unwind(|| {
                    expand("d", &d, &l, &budget, &mut |_, _| {}).map(|e| e.skips.len())
                });
                assert!(
                    r.is_ok(),
                    "panic on a damaged archive (LEAKSWEEP_TEST_SEED={seed})"
                );
            }
        }
        // Plainly truncated: a named skip.
        let (_, out) = run("t.zip", &samples[0][..samples[0].len() - 30], &l);
        assert_eq!(out.skips.len(), 1);
        assert_eq!(out.skips[0].kind, SkipKind::Unreadable);
    }

    #[test]
    fn decompressed_names() {
        assert_eq!(decompressed_name("a/notes.txt.gz"), "notes.txt");
        assert_eq!(decompressed_name("x.zip!dump.SQL.GZ"), "dump.SQL");
        assert_eq!(decompressed_name("b.tgz"), "b.tar");
        assert_eq!(decompressed_name("blob"), "blob");
        assert_eq!(decompressed_name(".gz"), ".gz");
    }
}
