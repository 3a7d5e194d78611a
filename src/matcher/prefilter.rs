//! The keyword prefilter: one search over every rule's keywords ([`KeywordSearch`], ASCII
//! case-insensitive, every occurrence) finds which rules may match and where. For each rule it triggers it
//! records the byte windows the rule's regex then searches (the lines around each hit, merged,
//! or the whole blob for multi-line rules and for rules whose `files` globs name the path).

use super::keywords::KeywordSearch;
use super::{allow, CompiledRule, Scratch};
use crate::error::Error;

/// The keyword search and, per keyword, the rules it triggers.
pub(super) struct Prefilter {
    search: KeywordSearch,
    /// For each keyword of the search (lower-cased), the rules it triggers.
    triggers: Vec<Vec<usize>>,
    /// Rules with `files`: run on the whole of every file those globs match.
    pub(super) file_rules: Vec<usize>,
}

impl Prefilter {
    /// Builds the search over the keywords of `rules` (each keyword once, lower-cased).
    pub(super) fn new(rules: &[CompiledRule]) -> Result<Self, Error> {
        let mut keywords: Vec<String> = Vec::new();
        let mut triggers: Vec<Vec<usize>> = Vec::new();
        let mut index = std::collections::HashMap::new();
        for (i, cr) in rules.iter().enumerate() {
            for k in &cr.rule.keywords {
                let k = k.to_ascii_lowercase();
                let slot = *index.entry(k.clone()).or_insert_with(|| {
                    keywords.push(k);
                    triggers.push(Vec::new());
                    triggers.len() - 1
                });
                if !triggers[slot].contains(&i) {
                    triggers[slot].push(i);
                }
            }
        }
        let search = KeywordSearch::new(&keywords)?;
        let file_rules = (0..rules.len())
            .filter(|&i| rules[i].files.is_some())
            .collect();
        Ok(Prefilter {
            search,
            triggers,
            file_rules,
        })
    }

    /// How many keyword hits `data` holds: the search alone, for benchmarks.
    pub(super) fn count_hits(&self, data: &[u8]) -> usize {
        let mut hits = Vec::new();
        self.search.find_all(data, &mut hits);
        hits.len()
    }

    /// Triggers the rules whose `files` globs match `path` (as a whole, or its file name), on the
    /// whole blob: a key file has no keyword to find.
    pub(super) fn add_file_rules(
        &self,
        rules: &[CompiledRule],
        data: &[u8],
        path: Option<&str>,
        scratch: &mut Scratch,
    ) {
        let Some(path) = path else { return };
        let name = path.rsplit('/').next().unwrap_or(path);
        for &ri in &self.file_rules {
            let Some(set) = &rules[ri].files else {
                continue;
            };
            if !(set.is_match(path) || set.is_match(name)) {
                continue;
            }
            let windows = &mut scratch.windows[ri];
            if windows.is_empty() {
                scratch.triggered.push(ri);
            }
            windows.clear();
            windows.push(0..data.len());
        }
    }

    /// Runs the prefilter and records, per triggered rule, the merged byte windows to search.
    pub(super) fn collect_windows(
        &self,
        rules: &[CompiledRule],
        data: &[u8],
        scratch: &mut Scratch,
    ) {
        scratch.windows.resize_with(rules.len(), Vec::new);
        for &ri in &scratch.triggered {
            scratch.windows[ri].clear();
        }
        scratch.triggered.clear();
        // Bounds of the line holding the previous hit: consecutive hits on one line (several
        // keywords, several rules per keyword) share one line lookup.
        let mut line = 0..0;
        let mut hits = std::mem::take(&mut scratch.hits);
        self.search.find_all(data, &mut hits);
        for &(keyword, hit_start, hit_end) in &hits {
            for &ri in &self.triggers[keyword] {
                let cr = &rules[ri];
                if cr
                    .guard
                    .as_ref()
                    .is_some_and(|g| !g.passes(data, hit_start, hit_end))
                {
                    continue;
                }
                // The line is looked up only for a hit some rule takes (most hits of a guarded
                // keyword such as `curl` are not).
                if !(line.start <= hit_start && hit_start < line.end) {
                    let start = memchr::memrchr(b'\n', &data[..hit_start]).map_or(0, |i| i + 1);
                    let end = memchr::memchr(b'\n', &data[hit_start..])
                        .map_or(data.len(), |i| hit_start + i + 1);
                    line = start..end;
                }
                let rule = &cr.rule;
                // A line this long is minified or data: the generic rules would cry wolf there
                // (the scanner drops their findings on such lines), so they do not search it.
                if !rule.multiline && cr.generic && line.len() > allow::MINIFIED_LINE {
                    continue;
                }
                let windows = &mut scratch.windows[ri];
                if windows.is_empty() {
                    scratch.triggered.push(ri);
                }
                if rule.multiline {
                    if windows.is_empty() {
                        windows.push(0..data.len());
                    }
                    continue;
                }
                // A hit inside the last window adds nothing, unless the rule reads lines after
                // its keyword: then the window must reach that many lines past this hit too.
                if let Some(last) = windows.last() {
                    if rule.context_lines == 0 && hit_start >= last.start && hit_end <= last.end {
                        continue;
                    }
                }
                let mut end = line.end;
                for _ in 0..rule.context_lines {
                    if end >= data.len() {
                        break;
                    }
                    end = memchr::memchr(b'\n', &data[end..]).map_or(data.len(), |i| end + i + 1);
                }
                match windows.last_mut() {
                    Some(last) if line.start <= last.end => last.end = last.end.max(end),
                    _ => windows.push(line.start..end),
                }
            }
        }
        scratch.hits = hits;
    }
}
