//! The rotation checklist and the new-values file: what people read and what machines load.
//!
//! Checklist output (text, JSON, markdown) names secrets by variable, rule and a secret_id prefix
//! and never holds an old or a new value unless `show_secrets` is set: it is meant to be pasted into
//! tickets and CI logs. The new values go to a dotenv file written 0600 by the command; the
//! checklist refers to them by file and variable name (even inside the SQL it prints).

pub use super::outfile::out_file;
use super::{providers, SecretPlan};
use serde::Serialize;
use std::fmt::Write as _;
use zeroize::Zeroizing;

/// What the renderer needs to know about the run.
#[derive(Debug, Clone)]
pub struct Context {
    /// Where the new values are (display form).
    pub out_file: String,
    /// Whether that file was written in this run.
    pub out_written: bool,
    /// Dotenv files rewritten in place in this run (`--apply`), with exactly what changed.
    pub applied: Vec<Applied>,
    pub show_secrets: bool,
    /// Findings the plan was built from.
    pub findings: usize,
}

/// One file `--apply` rewrote: what was replaced, exactly.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    pub path: String,
    /// Occurrences of old values replaced.
    pub occurrences: usize,
    /// Distinct secrets among them.
    pub secrets: usize,
    /// 1-based lines of the assignments edited.
    pub lines: Vec<usize>,
}

impl std::fmt::Display for Applied {
    /// `FILE (3 occurrences of 2 secrets, lines 1, 4)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        let lines: Vec<String> = self.lines.iter().map(|l| l.to_string()).collect();
        write!(
            f,
            "{} ({} occurrence{} of {} secret{}, line{} {})",
            self.path,
            self.occurrences,
            plural(self.occurrences),
            self.secrets,
            plural(self.secrets),
            plural(self.lines.len()),
            lines.join(", ")
        )
    }
}

/// The name a plan's new value has in the new-values file.
pub fn value_name(plan: &SecretPlan) -> String {
    plan.locations
        .iter()
        .find(|l| {
            l.variable.is_some()
                && l.value
                    .as_ref()
                    .is_some_and(|v| v.expose() == plan.old.expose())
        })
        .and_then(|l| l.variable.clone())
        .unwrap_or_else(|| format!("ROTATED_{}", &plan.secret_id.as_str()[..8]))
}

/// What breaks or must happen elsewhere when the secret changes.
pub fn depends(p: &SecretPlan) -> Vec<String> {
    let vars = p.variables().join(", ");
    let vars = if vars.is_empty() {
        "it".to_string()
    } else {
        vars
    };
    if p.recipe.is_none() {
        return vec![format!(
            "Every consumer of {vars} stops working once the credential is revoked: deploy the replacement first, then revoke."
        )];
    }
    match p.category.as_str() {
        "jwt-secret" => vec![
            "Every token signed with the old secret stops verifying: all sessions are signed out, and long-lived API or refresh tokens signed with it must be reissued.".into(),
            "Every service that signs or verifies these tokens must get the new secret at the same time.".into(),
        ],
        "nextauth" => vec![
            "NextAuth/Auth.js session cookies and encrypted tokens are invalidated: every user signs in again.".into(),
        ],
        "encryption-key" => vec![
            "Data encrypted with the old key (database fields, files, cookies, backups) cannot be read with the new key: re-encrypt it first, keeping the old key for decryption during the migration.".into(),
        ],
        "database" => {
            let user = p
                .database
                .as_ref()
                .and_then(|d| d.user.clone())
                .map_or("the database user".to_string(), |u| format!("user `{u}`"));
            vec![format!(
                "The password must be changed in the database first; every service connecting as {user} ({vars}) needs the new value, and connection pools must reconnect."
            )]
        }
        _ => vec![format!(
            "Whatever reads {vars} must receive the new value; find its consumers before switching."
        )],
    }
}

/// The SQL (or command) that changes a database password.
pub fn database_commands(p: &SecretPlan, ctx: &Context) -> Vec<String> {
    let value = match (&p.new, ctx.show_secrets) {
        (Some(new), true) => new.expose_str(),
        _ => format!("<{} from {}>", value_name(p), ctx.out_file),
    };
    let sq = value.replace('\'', "''");
    let db = p.database.as_ref();
    let user = db.and_then(|d| d.user.clone());
    let u = user.clone().unwrap_or_else(|| "<user>".into());
    let postgres = format!(
        "postgres: ALTER ROLE \"{}\" WITH PASSWORD '{sq}';  (or `\\password {u}` in psql, which keeps the value out of server logs)",
        u.replace('"', "\"\"")
    );
    let mysql = format!(
        "mysql: ALTER USER '{}'@'%' IDENTIFIED BY '{sq}';  (use the user's real host instead of '%' if it is restricted)",
        u.replace('\'', "''")
    );
    match db.map(|d| d.engine.as_str()) {
        Some("postgres") => vec![postgres],
        Some("mysql") => vec![mysql],
        Some("mongodb") => vec![format!(
            "mongodb: db.getSiblingDB(\"admin\").changeUserPassword(\"{u}\", \"{}\")",
            value.replace('"', "\\\"")
        )],
        Some("redis") => vec![format!(
            "redis: ACL SETUSER {} resetpass >{value}  (or CONFIG SET requirepass for a password-only setup; persist with ACL SAVE / CONFIG REWRITE)",
            user.as_deref().unwrap_or("default")
        )],
        Some("rabbitmq") => vec![format!("rabbitmq: rabbitmqctl change_password {u} '{}'", value.replace('\'', "'\\''"))],
        Some("sqlserver") => vec![format!("sqlserver: ALTER LOGIN [{u}] WITH PASSWORD = '{sq}';")],
        _ => vec![postgres, mysql],
    }
}

/// The steps, in order.
pub fn steps(p: &SecretPlan, ctx: &Context) -> Vec<String> {
    let mut steps = Vec::new();
    let vars = p.variables().join(", ");
    let vars = if vars.is_empty() { value_name(p) } else { vars };
    let files = p.files().join(", ");
    let where_new = if ctx.out_written {
        format!("{} in {} (mode 0600)", value_name(p), ctx.out_file)
    } else {
        format!("{} (not written in this run)", value_name(p))
    };
    let deploy = {
        let applied: Vec<&str> = p
            .files()
            .into_iter()
            .filter(|f| ctx.applied.iter().any(|a| paths_equal(&a.path, f)))
            .collect();
        if p.history_only() {
            format!(
                "Only git history holds the old value ({files}, first in commit {}): nothing to replace in the work tree; put the new value into every secret store, CI variable and deployment still using {vars}.",
                p.first_commit().map_or("unknown", |(c, _)| &c[..c.len().min(12)])
            )
        } else if applied.is_empty() {
            format!(
                "Put the new value into every location ({files}) and into every secret store / CI variable holding {vars}: `leaksweep rotate --apply FILE` does it for dotenv files in the run that generates the value."
            )
        } else {
            format!(
                "Already written into {} by --apply; also update every secret store / CI variable holding {vars}.",
                applied.join(", ")
            )
        }
    };
    if p.recipe.is_none() {
        let provider = providers::for_rule(&p.rule_id, &p.category);
        steps.push(format!(
            "Revoke and reissue at {}: {}",
            provider.name, provider.console
        ));
        steps.extend(provider.steps.iter().map(|s| s.to_string()));
        steps.push(format!(
            "Replace the old value in every location ({files}) with the reissued one."
        ));
    } else {
        match p.category.as_str() {
            "database" => {
                steps.push(format!(
                    "Change the password in the database first (new value: {where_new}):"
                ));
                for c in database_commands(p, ctx) {
                    steps.push(format!("    {c}"));
                }
                steps.push(deploy);
                steps.push("Restart or redeploy every service that connects with it (pools keep old connections open).".into());
                steps.push(
                    "Verify the services connect, and that the old password is refused.".into(),
                );
            }
            "encryption-key" => {
                steps.push(format!(
                    "Keep the old key as a decryption-only key (e.g. {}_OLD or your key ring); do not delete it yet.",
                    p.variables().first().copied().unwrap_or("the key")
                ));
                steps.push(format!(
                    "Deploy the new key ({where_new}) as the encryption key."
                ));
                steps.push(deploy);
                steps.push("Re-encrypt all data encrypted with the old key (decrypt with old, encrypt with new), including backups you keep; verify a sample decrypts with the new key.".into());
                steps.push("Only then remove the old key everywhere.".into());
            }
            "jwt-secret" | "nextauth" => {
                steps.push(format!("New secret: {where_new}."));
                steps.push(deploy);
                steps.push("Deploy every service that signs or verifies with it at the same time; expect all users to be signed out.".into());
                if p.category == "jwt-secret" {
                    steps.push("Reissue long-lived tokens (API keys, refresh tokens) that were signed with the old secret.".into());
                }
            }
            _ => {
                steps.push(format!("New value: {where_new}."));
                steps.push(deploy);
                steps.push("Restart or redeploy the services that read it; verify.".into());
            }
        }
    }
    steps.push("Then remove the old value from git history (leaksweep rewrite) and ask collaborators to re-clone; it is dead by now, so this is hygiene, not the fix.".into());
    steps
}

fn paths_equal(a: &str, b: &str) -> bool {
    let canon = |p: &str| std::fs::canonicalize(p).unwrap_or_else(|_| p.into());
    a == b || canon(a) == canon(b)
}

/// One checklist entry as serialized in `--format json`.
#[derive(Debug, Serialize)]
pub struct Entry {
    pub order: usize,
    pub secret_id: String,
    pub rule_id: String,
    pub rule_ids: Vec<String>,
    pub category: String,
    pub description: String,
    /// `generate` or `revoke`.
    pub action: &'static str,
    pub rotation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_value_format: Option<String>,
    /// The variable holding the new value in the new-values file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_value_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderInfo>,
    pub redacted: String,
    pub variables: Vec<String>,
    pub files: Vec<String>,
    pub location_count: usize,
    pub locations: Vec<LocationInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseInfo>,
    pub depends: Vec<String>,
    pub steps: Vec<String>,
    /// The new value; only with `--show-secrets`.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_secret"
    )]
    pub new_value: Option<Zeroizing<String>>,
}

fn serialize_secret<S: serde::Serializer>(
    v: &Option<Zeroizing<String>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match v {
        Some(x) => s.serialize_str(x),
        None => s.serialize_none(),
    }
}

#[derive(Debug, Serialize)]
pub struct ProviderInfo {
    pub name: &'static str,
    pub console: &'static str,
}

#[derive(Debug, Serialize)]
pub struct LocationInfo {
    pub path: String,
    pub line: usize,
    pub rule_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variable: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DatabaseInfo {
    pub engine: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    pub commands: Vec<String>,
}

/// Builds the entries, in plan order.
pub fn entries(plans: &[SecretPlan], ctx: &Context) -> Vec<Entry> {
    plans
        .iter()
        .enumerate()
        .map(|(i, p)| Entry {
            order: i + 1,
            secret_id: p.secret_id.to_string(),
            rule_id: p.rule_id.clone(),
            rule_ids: p.rule_ids.clone(),
            category: p.category.clone(),
            description: p.description.clone(),
            action: if p.recipe.is_some() {
                "generate"
            } else {
                "revoke"
            },
            rotation: p.kind.to_string(),
            new_value_format: p.recipe.as_ref().map(|r| r.describe()),
            new_value_name: p.new.as_ref().map(|_| value_name(p)),
            provider: p.recipe.is_none().then(|| {
                let pr = providers::for_rule(&p.rule_id, &p.category);
                ProviderInfo {
                    name: pr.name,
                    console: pr.console,
                }
            }),
            redacted: p.redacted.clone(),
            variables: p.variables().iter().map(|s| s.to_string()).collect(),
            files: p.files().iter().map(|s| s.to_string()).collect(),
            location_count: p.locations.len(),
            locations: p
                .locations
                .iter()
                .map(|l| LocationInfo {
                    path: l.path.clone(),
                    line: l.line,
                    rule_id: l.rule_id.clone(),
                    variable: l.variable.clone(),
                    commit: l.commit.clone(),
                })
                .collect(),
            first_commit: p.first_commit().map(|(c, _)| c.to_string()),
            database: p
                .database
                .as_ref()
                .filter(|_| p.recipe.is_some())
                .map(|d| DatabaseInfo {
                    engine: d.engine.clone(),
                    user: d.user.clone(),
                    commands: database_commands(p, ctx),
                }),
            depends: depends(p),
            steps: steps(p, ctx),
            new_value: p
                .new
                .as_ref()
                .filter(|_| ctx.show_secrets)
                .map(|n| Zeroizing::new(n.expose_str())),
        })
        .collect()
}

fn title(e: &Entry) -> String {
    if e.variables.is_empty() {
        format!("{} ({})", e.rule_id, e.category)
    } else {
        format!("{} ({})", e.variables.join(", "), e.category)
    }
}

fn where_found(e: &Entry) -> String {
    let list: Vec<String> = e
        .locations
        .iter()
        .map(|l| format!("{}:{}", l.path, l.line))
        .collect();
    format!(
        "{} location{} in {} file{}: {}",
        e.location_count,
        if e.location_count == 1 { "" } else { "s" },
        e.files.len(),
        if e.files.len() == 1 { "" } else { "s" },
        list.join(", ")
    )
}

fn summary_line(entries: &[Entry], ctx: &Context) -> String {
    let gen = entries.iter().filter(|e| e.action == "generate").count();
    format!(
        "{} secret{} from {} finding{}: {gen} new value{}, {} to revoke at the provider",
        entries.len(),
        if entries.len() == 1 { "" } else { "s" },
        ctx.findings,
        if ctx.findings == 1 { "" } else { "s" },
        if gen == 1 { "" } else { "s" },
        entries.len() - gen
    )
}

/// Plain text for a terminal.
pub fn text(entries: &[Entry], ctx: &Context) -> Zeroizing<String> {
    let mut s = Zeroizing::new(String::new());
    let _ = writeln!(s, "leaksweep rotate: {}", summary_line(entries, ctx));
    if ctx.out_written {
        let _ = writeln!(s, "New values: {} (mode 0600)", ctx.out_file);
    }
    for f in &ctx.applied {
        let _ = writeln!(s, "Applied to: {f}");
    }
    for e in entries {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{}. {}  [{}] secret {}",
            e.order,
            title(e),
            e.action,
            &e.secret_id[..12]
        );
        let _ = writeln!(
            s,
            "   rule:      {} (found by {})",
            e.rule_id,
            e.rule_ids.join(", ")
        );
        let _ = writeln!(s, "   old:       {}", e.redacted);
        let _ = writeln!(s, "   found:     {}", where_found(e));
        if let Some(c) = &e.first_commit {
            let _ = writeln!(s, "   first commit: {c}");
        }
        match (&e.new_value_format, &e.provider) {
            (Some(f), _) => {
                let _ = writeln!(s, "   new value: {f}");
            }
            (None, Some(p)) => {
                let _ = writeln!(s, "   provider:  {} ({})", p.name, p.console);
            }
            _ => {}
        }
        if let Some(v) = &e.new_value {
            let _ = writeln!(s, "   NEW:       {}", v.as_str());
        }
        for d in &e.depends {
            let _ = writeln!(s, "   depends:   {d}");
        }
        let _ = writeln!(s, "   steps:");
        let mut n = 0;
        for step in &e.steps {
            if step.starts_with("    ") {
                let _ = writeln!(s, "        {}", step.trim_start());
            } else {
                n += 1;
                let _ = writeln!(s, "     {n}. {step}");
            }
        }
    }
    s
}

/// A markdown checklist (for an issue or a pull request).
pub fn markdown(entries: &[Entry], ctx: &Context) -> Zeroizing<String> {
    let mut s = Zeroizing::new(String::new());
    let _ = writeln!(s, "# Secret rotation checklist\n");
    let _ = writeln!(s, "{}.", summary_line(entries, ctx));
    if ctx.out_written {
        let _ = writeln!(
            s,
            "New values are in `{}` (mode 0600; never commit it). This checklist names them, it does not contain them.",
            ctx.out_file
        );
    }
    for f in &ctx.applied {
        let _ = writeln!(s, "Applied in place to `{f}`.");
    }
    let _ = writeln!(s, "\nOrder: provider credentials, then databases, keys, and last the secrets whose rotation signs users out.");
    for e in entries {
        let _ = writeln!(s, "\n## {}. {}\n", e.order, title(e));
        let _ = writeln!(
            s,
            "- Secret `{}` (redacted `{}`), rule `{}`{}",
            &e.secret_id[..12],
            e.redacted,
            e.rule_id,
            if e.rule_ids.len() > 1 {
                format!(" (also found by {})", e.rule_ids.join(", "))
            } else {
                String::new()
            }
        );
        let _ = writeln!(s, "- Found: {}", where_found(e));
        if let Some(c) = &e.first_commit {
            let _ = writeln!(s, "- First commit: `{c}`");
        }
        if let Some(f) = &e.new_value_format {
            let _ = writeln!(
                s,
                "- New value: {f}, as `{}`",
                e.new_value_name.as_deref().unwrap_or("")
            );
        }
        if let Some(v) = &e.new_value {
            let _ = writeln!(s, "- NEW VALUE: `{}`", v.as_str());
        }
        if let Some(p) = &e.provider {
            let _ = writeln!(s, "- Provider: {} ({})", p.name, p.console);
        }
        for d in &e.depends {
            let _ = writeln!(s, "- Depends: {d}");
        }
        let _ = writeln!(s, "\nSteps:\n");
        for step in &e.steps {
            if let Some(cmd) = step.strip_prefix("    ") {
                let _ = writeln!(s, "  - `{cmd}`");
            } else {
                let _ = writeln!(s, "- [ ] {step}");
            }
        }
    }
    s
}

/// The JSON document.
pub fn json(entries: &[Entry], ctx: &Context) -> Zeroizing<Vec<u8>> {
    #[derive(Serialize)]
    struct Doc<'a> {
        version: u32,
        out_file: Option<&'a str>,
        applied: &'a [Applied],
        findings: usize,
        secrets: &'a [Entry],
    }
    let doc = Doc {
        version: 1,
        out_file: ctx.out_written.then_some(ctx.out_file.as_str()),
        applied: &ctx.applied,
        findings: ctx.findings,
        secrets: entries,
    };
    let mut buf = Zeroizing::new(Vec::new());
    // Serializing plain structs to a Vec cannot fail.
    let _ = serde_json::to_writer_pretty(&mut *buf, &doc);
    buf.push(b'\n');
    buf
}
