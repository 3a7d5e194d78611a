#!/usr/bin/env python3
"""Recall on other scanners' published rule examples, by family.

Reads the example values a peer publishes beside its rules, at run time, from a checkout the
caller names (nothing of theirs is stored here), writes each example to its own file, scans the
folder with leaksweep and reports, per family and in total, how many positives were found and how
many negatives were reported.

    benches/peer-examples.py --bin target/release/leaksweep \
        --kingfisher KINGFISHER/data/rules --betterleaks BETTERLEAKS/cmd/generate/config/rules \
        [--core] [--misses] [--filtered]

Kingfisher: every `examples:` (positive) and `negative_examples:` entry of its YAML rules.
Betterleaks: the string literals written out in its Go rules' `tps`/`fps` lists (the generated
ones need Go to run, so they are not counted).

--filtered scans the folder once more with `--show-filtered` and classifies each missed positive:
`filtered: REASON` when a built-in filter rejected a candidate in it (the reason of its first
one), else `no rule matched` (no rule's regex matched it, or the rule's own allowlist or stopwords
named it); a `no rule matched` miss is split once more by the keywords of the rules in `rules/`
beside this script: `keyword of RULE, format differs` when a rule's keyword is in the example (the
rule saw it and its value does not have the provider's format: another length, alphabet or
version) and `no keyword of any rule` (a format or a context no rule covers). It prints the count
of each class per peer, so the misses split into values judged fake or placeholder, values whose
shape differs from the documented one, and formats no rule covers.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib

try:
    import yaml
except ImportError:  # pragma: no cover
    sys.exit("peer-examples: needs PyYAML (pip install pyyaml)")

# Families of the core categories, by words in the rule file's name.
CORE = {
    "jwt-signing": ["jwt", "jwk", "nextauth"],
    "keys": ["private", "privkey", "pgp", "ssh", "age", "pkcs", "putty"],
    "database": ["postgres", "mysql", "mongo", "redis", "sql", "jdbc", "odbc", "planetscale",
                 "neon", "supabase", "snowflake", "databricks", "clickhouse", "confluent",
                 "kafka", "database", "couchbase", "cockroach", "elastic"],
    "cloud": ["aws", "azure", "gcp", "google", "alibaba", "tencent", "ibm", "oracle", "oci",
              "scaleway", "yandex", "digitalocean", "linode", "vultr", "hetzner", "ovh", "fly",
              "vercel", "netlify", "render", "railway", "cloudflare", "fastly", "akamai",
              "heroku", "firebase"],
    "vcs-ci": ["github", "gitlab", "bitbucket", "sourcegraph", "gitea", "circleci", "travis",
               "buildkite", "jenkins", "npm", "pypi", "rubygems", "nuget", "crates", "docker",
               "jfrog", "artifactory", "terraform", "hashicorp", "vault", "pulumi"],
    "payment": ["stripe", "square", "paypal", "braintree", "adyen", "shopify", "razorpay",
                "paystack", "flutterwave", "coinbase", "plaid"],
    "messaging": ["slack", "teams", "discord", "telegram", "twilio", "vonage", "nexmo",
                  "sendgrid", "mailgun", "mailchimp", "postmark", "sparkpost", "brevo",
                  "sendinblue", "resend", "mailjet"],
    "ai": ["openai", "anthropic", "mistral", "cohere", "groq", "replicate", "huggingface",
           "perplexity", "xai", "deepseek", "deepgram", "assemblyai", "elevenlabs", "langsmith",
           "langchain", "tavily", "jina", "wandb", "weightsandbiases", "pinecone", "clarifai",
           "gemini"],
}


def family(provider):
    """The core family of a provider name (a rule file's name), by its leading word."""
    base = re.sub(r"[^a-z0-9]", "", provider.lower())
    for fam, words in CORE.items():
        if any(base.startswith(w) for w in words if len(w) > 3 or base == w):
            return fam
    return None


def provider(src, rule):
    """Kingfisher names the provider in the rule id (`kingfisher.NAME.N`); betterleaks in the file."""
    parts = rule.split(".")
    if len(parts) >= 3 and parts[0] == "kingfisher":
        return parts[1]
    return os.path.splitext(os.path.basename(src))[0]


def kingfisher(folder):
    for f in sorted(glob.glob(os.path.join(folder, "*.yml"))):
        try:
            doc = yaml.safe_load(open(f, encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        for r in doc.get("rules") or []:
            if r.get("visible") is False:
                continue  # a helper rule (a host or an id another rule needs), never reported
            for e in r.get("examples") or []:
                yield f, r.get("id", "?"), True, str(e)
            for e in r.get("negative_examples") or []:
                yield f, r.get("id", "?"), False, str(e)


GO_LIT = re.compile(r'^\s*(?:"((?:[^"\\]|\\.)*)"|`([^`]*)`)\s*,?\s*(?://.*)?$')


def betterleaks(folder):
    for f in sorted(glob.glob(os.path.join(folder, "*.go"))):
        text = open(f, encoding="utf-8").read()
        for m in re.finditer(r"\b(tps|fps)\s*:?=\s*(?:append\(\w+,\s*)?\[\]string\{", text):
            positive = m.group(1) == "tps"
            depth, i = 1, m.end()
            while i < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[i], 0)
                i += 1
            for line in text[m.end():i - 1].splitlines():
                lm = GO_LIT.match(line)
                if not lm:
                    continue
                if lm.group(1) is not None:
                    try:
                        value = json.loads('"' + lm.group(1) + '"')
                    except json.JSONDecodeError:
                        continue
                else:
                    value = lm.group(2)
                if value.strip():
                    yield f, os.path.basename(f), positive, value


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/leaksweep")
    ap.add_argument("--kingfisher")
    ap.add_argument("--betterleaks")
    ap.add_argument("--core", action="store_true", help="only the core families")
    ap.add_argument("--misses", action="store_true")
    ap.add_argument("--filtered", action="store_true",
                    help="classify each miss by the filter that rejected it (--show-filtered)")
    args = ap.parse_args()
    cases = []
    if args.kingfisher:
        cases += [("kingfisher",) + c for c in kingfisher(args.kingfisher)]
    if args.betterleaks:
        cases += [("betterleaks",) + c for c in betterleaks(args.betterleaks)]
    if not cases:
        sys.exit("peer-examples: name --kingfisher and/or --betterleaks")
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for n, (peer, src, rule, positive, value) in enumerate(cases):
            fam = family(provider(src, rule))
            if args.core and fam is None:
                continue
            name = f"{peer}-{n:05}.txt"
            with open(os.path.join(tmp, name), "w", encoding="utf-8") as out:
                out.write(value + "\n")
            files.append((name, peer, fam or "other", rule, positive, value))
        hit = {os.path.basename(f["path"]) for f in scan(args.bin, tmp)}
        why = {}
        if args.filtered:
            for f in scan(args.bin, tmp, "--show-filtered"):
                if "filtered" in f:
                    why.setdefault(os.path.basename(f["path"]), f["filtered"])
    keywords = rule_keywords()
    table = {}
    for name, peer, fam, rule, positive, value in files:
        key = (peer, fam)
        t = table.setdefault(key, [0, 0, 0, 0])  # pos, found, neg, alarms
        if positive:
            t[0] += 1
            t[1] += name in hit
            if args.misses and name not in hit:
                reason = f" [{miss_class(name, value, why, keywords)}]" if args.filtered else ""
                print(f"miss {peer} {rule}{reason}: {value[:100]}")
        else:
            t[2] += 1
            t[3] += name in hit
            if args.misses and name in hit:
                print(f"alarm {peer} {rule}: {value[:100]}")
    total = {}
    print(f"{'peer':12} {'family':12} {'found':>12} {'recall':>7} {'alarms':>9}")
    for (peer, fam), (p, f, n, a) in sorted(table.items()):
        print(f"{peer:12} {fam:12} {f:5}/{p:<6} {100 * f / max(p, 1):6.1f}% {a:4}/{n:<4}")
        t = total.setdefault(peer, [0, 0, 0, 0])
        for i, v in enumerate((p, f, n, a)):
            t[i] += v
    for peer, (p, f, n, a) in sorted(total.items()):
        print(f"{peer:12} {'TOTAL':12} {f:5}/{p:<6} {100 * f / max(p, 1):6.1f}% {a:4}/{n:<4}")
    if args.filtered:
        misses = [(peer, miss_class(name, value, why, keywords))
                  for name, peer, _, _, positive, value in files if positive and name not in hit]
        print_misses(misses, sorted(total))


def miss_class(name, value, why, keywords):
    """The class of a missed positive: `filtered: REASON` or one of `unmatched_class`."""
    if name in why:
        return f"filtered: {why[name]}"
    return unmatched_class(value, keywords)


def scan(binary, folder, *extra):
    """The findings of `leaksweep scan FOLDER --format json --no-ignore EXTRA...`."""
    run = subprocess.run([binary, "scan", folder, "--format", "json", "--no-ignore", *extra],
                         capture_output=True, text=True)
    if run.returncode not in (0, 1):
        sys.exit(f"peer-examples: leaksweep exited {run.returncode}: {run.stderr[-500:]}")
    return json.loads(run.stdout)["findings"]


def rule_keywords():
    """(keyword in lower case, rule id) of every built-in rule, from `rules/*.toml`."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rules")
    out = []
    for path in sorted(glob.glob(os.path.join(here, "*.toml"))):
        with open(path, "rb") as f:
            for rule in tomllib.load(f).get("rule", []):
                out += [(k.lower(), rule["id"]) for k in rule.get("keywords", [])]
    return out


def unmatched_class(value, keywords):
    """`keyword of RULE, format differs` or `no keyword of any rule`, for a miss no filter saw."""
    low = value.lower()
    # The longest keyword present names the most specific rule (`deepgram` before `secret`).
    present = sorted((-len(k), rule) for k, rule in keywords if k in low)
    if present:
        return f"keyword of {present[0][1]}, format differs"
    return "no keyword of any rule"


def print_misses(misses, peers):
    """The missed positives per class (`filtered: REASON` or `no rule matched`) and peer."""
    counts = {}
    for peer, reason in misses:
        cls = "keyword present, format differs" if reason.startswith("keyword") else reason
        counts.setdefault(cls, {}).setdefault(peer, 0)
        counts[cls][peer] += 1
    print()
    def group(c):
        return (0 if c.startswith("filtered") else 1 if c.startswith("keyword") else 2)
    order = sorted(counts, key=lambda c: (group(c), -sum(counts[c].values()), c))
    width = max([32] + [len(c) + 2 for c in counts])
    print(f"{'missed positives':{width}}" + "".join(f"{p:>12}" for p in peers) + f"{'total':>8}")
    for cls in order:
        row = counts[cls]
        print(f"{cls:{width}}" + "".join(f"{row.get(p, 0):12}" for p in peers)
              + f"{sum(row.values()):8}")
    for name, test in [("  filtered (all reasons)", "filtered")]:
        print(f"{name:{width}}" + "".join(
            f"{sum(1 for q, c in misses if q == p and c.startswith(test)):12}" for p in peers)
            + f"{sum(1 for _, c in misses if c.startswith(test)):8}")
    print(f"{'TOTAL':{width}}" + "".join(f"{sum(1 for q, _ in misses if q == p):12}" for p in peers)
          + f"{len(misses):8}")


if __name__ == "__main__":
    main()
