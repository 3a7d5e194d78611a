//! Revocation advice for provider-issued credentials (rotation kind `revoke`): tokens and keys that
//! only the issuing provider can mint, so `rotate` cannot generate a replacement. For each we name
//! the console location and the steps to revoke and reissue.
//!
//! A provider is chosen by the rule id prefix (`aws-...`, `github-...`) or the rule category; an
//! unknown provider gets generic advice. The table is static data: adding a provider is one entry.
//! NOTE: console URLs and menu paths drift; they are kept short and point at the stable entry page.

/// How to revoke and reissue one provider's credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Provider {
    /// Short name for people (`AWS`, `GitHub`).
    pub name: &'static str,
    /// Rule id prefixes / categories that select this provider (lower case).
    pub prefixes: &'static [&'static str],
    /// Where to do it.
    pub console: &'static str,
    /// Steps in order.
    pub steps: &'static [&'static str],
}

/// The known providers.
pub const PROVIDERS: &[Provider] = &[
    Provider {
        name: "AWS",
        prefixes: &["aws"],
        console: "https://console.aws.amazon.com/iam/home#/security_credentials (IAM > Users > Security credentials)",
        steps: &[
            "Create a new access key for the same IAM user (IAM > Users > <user> > Security credentials > Create access key).",
            "Deploy the new key id and secret to every consumer.",
            "Deactivate the leaked access key, watch for failures (CloudTrail: events by that AccessKeyId), then delete it.",
            "Review CloudTrail for use of the leaked key since it was first committed.",
        ],
    },
    Provider {
        name: "GitHub",
        prefixes: &["github", "gh"],
        console: "https://github.com/settings/tokens (fine-grained: /settings/personal-access-tokens; apps: org settings > Developer settings)",
        steps: &[
            "Revoke the token (Settings > Developer settings > Personal access tokens, or the GitHub App / OAuth app page).",
            "Create a replacement with the narrowest scopes and an expiry.",
            "Update CI secrets and every consumer.",
            "Check the security log (Settings > Security log) for use of the old token.",
        ],
    },
    Provider {
        name: "GitLab",
        prefixes: &["gitlab", "glpat"],
        console: "https://gitlab.com/-/user_settings/personal_access_tokens (project/group: Settings > Access tokens)",
        steps: &[
            "Revoke the token (User settings > Access tokens, or the project/group Access tokens page).",
            "Create a replacement with minimal scopes and an expiry.",
            "Update CI/CD variables and every consumer.",
        ],
    },
    Provider {
        name: "Slack",
        prefixes: &["slack"],
        console: "https://api.slack.com/apps (your app > OAuth & Permissions / Incoming Webhooks)",
        steps: &[
            "Revoke the token (OAuth & Permissions > Revoke, or `auth.revoke`), or delete and recreate the incoming webhook.",
            "Reinstall the app / create a new webhook to get a new value.",
            "Update every consumer.",
        ],
    },
    Provider {
        name: "Stripe",
        prefixes: &["stripe"],
        console: "https://dashboard.stripe.com/apikeys (Developers > API keys; webhooks: Developers > Webhooks)",
        steps: &[
            "Roll the key (Developers > API keys > Roll key); choose an expiry for the old key only if you need a short overlap.",
            "Deploy the new key to every consumer.",
            "Review Developers > Logs for requests made with the old key.",
        ],
    },
    Provider {
        name: "Google Cloud",
        prefixes: &["google", "gcp", "firebase"],
        console: "https://console.cloud.google.com/apis/credentials (service accounts: IAM & Admin > Service accounts > Keys)",
        steps: &[
            "Create a new API key or service-account key.",
            "Deploy it to every consumer, with API/referrer restrictions.",
            "Delete the leaked key (APIs & Services > Credentials, or the service account's Keys tab).",
            "Review Cloud Audit Logs for use of the leaked key.",
        ],
    },
    Provider {
        name: "OpenAI",
        prefixes: &["openai"],
        console: "https://platform.openai.com/api-keys",
        steps: &[
            "Revoke the key (API keys > Revoke secret key).",
            "Create a new project-scoped key.",
            "Update every consumer; check Usage for unexpected spend.",
        ],
    },
    Provider {
        name: "Anthropic",
        prefixes: &["anthropic"],
        console: "https://console.anthropic.com/settings/keys",
        steps: &[
            "Disable or delete the key (Settings > API keys).",
            "Create a new key in the right workspace.",
            "Update every consumer; check Usage for unexpected spend.",
        ],
    },
    Provider {
        name: "SendGrid",
        prefixes: &["sendgrid"],
        console: "https://app.sendgrid.com/settings/api_keys",
        steps: &[
            "Create a new API key with restricted access.",
            "Deploy it to every consumer.",
            "Delete the leaked key (Settings > API Keys); review Activity for mail sent with it.",
        ],
    },
    Provider {
        name: "Twilio",
        prefixes: &["twilio"],
        console: "https://console.twilio.com/ (Account > API keys & tokens)",
        steps: &[
            "Create a new API key (or request a secondary Auth Token).",
            "Deploy it to every consumer.",
            "Delete the leaked API key / promote the secondary Auth Token to primary.",
        ],
    },
    Provider {
        name: "npm",
        prefixes: &["npm"],
        console: "https://www.npmjs.com/settings/<user>/tokens",
        steps: &[
            "Revoke the token (`npm token revoke <id>` or Access Tokens page).",
            "Create a granular token with minimal packages and an expiry.",
            "Update CI secrets; check recent package versions for unexpected publishes.",
        ],
    },
    Provider {
        name: "PyPI",
        prefixes: &["pypi"],
        console: "https://pypi.org/manage/account/token/",
        steps: &[
            "Remove the token (Account settings > API tokens).",
            "Prefer Trusted Publishing; otherwise create a project-scoped token.",
            "Update CI secrets; check release history for unexpected uploads.",
        ],
    },
    Provider {
        name: "Private key (SSH/TLS/PGP)",
        prefixes: &["private", "pgp", "ssh"],
        console: "wherever the public half is trusted: authorized_keys, deploy keys, your CA, key servers",
        steps: &[
            "Generate a new key pair (e.g. `ssh-keygen -t ed25519`, or a new CSR for TLS).",
            "Install the new public key / certificate everywhere the old one is trusted.",
            "Remove the old public key (authorized_keys, deploy keys), revoke the old certificate at the CA, or publish a PGP revocation certificate.",
        ],
    },
    Provider {
        name: "JWT (an issued token)",
        prefixes: &["jwt"],
        console: "the service that issued the token",
        steps: &[
            "Revoke the token (denylist its jti / revoke the session), or rotate the signing key to invalidate all tokens.",
            "Check the `exp` claim: a long-lived token stays valid until revoked.",
        ],
    },
];

/// Advice for a credential no rule names a provider for.
pub const GENERIC: Provider = Provider {
    name: "the issuing service",
    prefixes: &[],
    console: "the issuer's console or key-management page",
    steps: &[
        "Find who issued the credential (the rule description and the variable name usually tell).",
        "Revoke or disable the leaked credential there, and issue a new one.",
        "Deploy the new credential to every consumer.",
        "Review the issuer's access logs for use of the leaked credential.",
    ],
};

/// The provider for a rule, by id prefix first, then by category.
pub fn for_rule(rule_id: &str, category: &str) -> &'static Provider {
    let id = rule_id.to_ascii_lowercase();
    let cat = category.to_ascii_lowercase();
    let matches = |key: &str, p: &str| {
        key == p || key.starts_with(&format!("{p}-")) || key.starts_with(&format!("{p}_"))
    };
    PROVIDERS
        .iter()
        .find(|p| p.prefixes.iter().any(|x| matches(&id, x)))
        .or_else(|| {
            PROVIDERS
                .iter()
                .find(|p| p.prefixes.iter().any(|x| matches(&cat, x)))
        })
        .unwrap_or(&GENERIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_by_prefix_and_category() {
        assert_eq!(for_rule("aws-access-key-id", "cloud").name, "AWS");
        assert_eq!(for_rule("github-pat", "vcs").name, "GitHub");
        assert_eq!(for_rule("x", "stripe").name, "Stripe");
        assert_eq!(for_rule("npm-token", "saas").name, "npm");
        assert_eq!(
            for_rule("private-key", "private-key").name,
            "Private key (SSH/TLS/PGP)"
        );
        assert_eq!(for_rule("mystery", "generic").name, GENERIC.name);
        // A prefix must be a whole word: `awsome` is not AWS.
        assert_eq!(for_rule("awsome-token", "generic").name, GENERIC.name);
        for p in PROVIDERS {
            assert!(!p.steps.is_empty() && !p.console.is_empty());
        }
    }
}
