#!/usr/bin/env python3
"""Measures how common 3-byte sequences are in source and configuration text and writes the
table the keyword search picks its anchors by (src/matcher/trigrams.rs).

usage: tools/trigrams.py DIR[,DIR...] [DIR[,DIR...] ...] > table.txt

Each argument is one body of text (comma-separated directories); every body weighs alike, so a
large one (a dependency tree) does not drown the others. Files are read whole if they have a
text extension, hold no NUL byte in their first 8 KB and are at most 2 MB; `.git` and
`node_modules` are passed over. Counts are overlapping, ASCII lower-cased, per 10,000 bytes.
The output is the body of the TIERS table: sequences of printable ASCII seen at least 0.25
times per 10,000 bytes, in half-powers-of-two tiers from 1,000 per 10,000 down.
"""
import collections
import math
import os
import sys

EXTS = {'.rs', '.c', '.h', '.md', '.toml', '.json', '.js', '.ts', '.jsx', '.tsx', '.java',
        '.py', '.html', '.css', '.yml', '.yaml', '.xml', '.txt', '.properties', '.sh', '.go',
        '.rb', '.php', '.ini', '.cfg', '.env', ''}
LEAST = 0.25


def frequencies(roots):
    counts = collections.Counter()
    total = 0
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in ('.git', 'node_modules'))
            for name in sorted(filenames):
                if os.path.splitext(name)[1] not in EXTS:
                    continue
                try:
                    with open(os.path.join(dirpath, name), 'rb') as f:
                        data = f.read()
                except OSError:
                    continue
                if b'\0' in data[:8192] or len(data) > 2_000_000:
                    continue
                data = data.lower()
                total += max(len(data) - 2, 0)
                counts.update(data[i:i + 3] for i in range(len(data) - 2))
    return {k: v / total * 1e4 for k, v in counts.items()} if total else {}


def literal(seqs):
    out = []
    for c in b''.join(seqs):
        out.append({0x5c: '\\\\', 0x22: '\\"'}.get(c, chr(c)))
    return ''.join(out)


def main():
    bodies = [frequencies(arg.split(',')) for arg in sys.argv[1:]]
    if not bodies:
        sys.exit(__doc__)
    keys = set().union(*bodies)
    tiers = collections.defaultdict(list)
    for k in keys:
        f = sum(b.get(k, 0.0) for b in bodies) / len(bodies)
        if f >= LEAST and all(0x20 <= c < 0x7f for c in k):
            tiers[int(math.floor(-2 * math.log2(f / 1000)))].append(k)
    for t in sorted(tiers):
        print(f'    ({t}, b"{literal(sorted(tiers[t]))}"),')


if __name__ == '__main__':
    main()
