//! Credentials on command lines and in whitespace-separated config directives (rules/commandline.toml),
//! through the real binary over real files: shell scripts, GitHub Actions workflows, Dockerfiles,
//! Makefiles, README code blocks, redis.conf and Java `.properties`. Each test names the exact
//! rule and line of every finding, and the env lookups, placeholders and prose that must not be one.

use crate::common::*;

/// A generated password that cannot be read as a flag (`-...`) or a variable: a letter, then
/// letters, digits and symbols.
fn secret() -> String {
    format!("k{}", password(17))
}

/// A generated token: letters and digits only, as API keys are.
fn token() -> String {
    const A: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    format!("t{}9Q", draw(&mut seeded_rng(), A, 26))
}

/// (file, line, rule id) of every finding of `leaksweep scan .` in `fx`, sorted.
fn found(fx: &Fixture) -> Vec<(String, u64, String)> {
    let (code, report, stderr) =
        run_json(leaksweep(fx.path()).args(["scan", ".", "--no-ignore", "--format", "json"]));
    assert!(code == 0 || code == 1, "exit {code}: {stderr}");
    let mut out: Vec<(String, u64, String)> = findings(&report)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
                f["rule_id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Shorthand for an expected finding.
fn at(file: &str, line: u64, rule: &str) -> (String, u64, String) {
    (file.to_string(), line, rule.to_string())
}

#[test]
fn long_flags_in_a_shell_script_a_workflow_and_a_makefile() {
    let fx = Fixture::new();
    let (pw, db, key, bearer) = (secret(), secret(), token(), token());
    fx.write(
        "scripts/backup.sh",
        format!(
            "#!/bin/sh\nset -eu\n# nightly dump\nmysqldump -u backup --password '{pw}' --all-databases > all.sql\n\
             app migrate --db_password {db} --yes\n"
        ),
    );
    fx.write(
        ".github/workflows/deploy.yml",
        format!(
            "on: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n          \
             mycli --api-key {key} deploy\n"
        ),
    );
    fx.write(
        "Makefile",
        format!("smoke:\n\tcurl --oauth2-bearer {bearer} https://api.corp.net/v1/me\n"),
    );
    assert_eq!(
        found(&fx),
        vec![
            at(".github/workflows/deploy.yml", 7, "cli-secret-flag"),
            at("Makefile", 2, "cli-secret-flag"),
            at("scripts/backup.sh", 4, "cli-password-flag"),
            at("scripts/backup.sh", 5, "cli-password-flag"),
        ]
    );
}

#[test]
fn flags_given_a_lookup_a_placeholder_or_prose_are_not_reported() {
    let fx = Fixture::new();
    fx.write(
        "deploy.sh",
        "mysql -u admin --password \"$DB_PASS\" db\n\
         mysql -u admin --password=${DB_PASS} db\n\
         mysql -u admin --password $(cat /run/secrets/db) db\n\
         mycli --token `vault read -field=token secret/ci`\n\
         mysql -u admin --password <password> db\n\
         mysql -u admin --password **** db\n\
         mycli --token YOUR_TOKEN\n\
         echo \"$PW\" | docker login -u ci --password-stdin registry.corp.net\n\
         pg_dump --no-password --username backup db\n\
         wget --output-document=- --ask-password -user=foo http://files.corp.net/tarball.tgz\n\
         curl --user neo4j:[PASSWORD] http://[IP]:7474/db/data/\n\
         aws ec2 run-instances --client-token 550e8400-e29b-41d4-a716-446655440000 --image-id ami-1\n\
         gpg --armor --export-secret-key 3AA5C34371567BD2 > signing.asc\n",
    );
    fx.write(
        "deploy.bat",
        "mycli.exe --api-key %API_KEY% --client-secret %CLIENT_SECRET%\r\n",
    );
    fx.write(
        ".github/workflows/ci.yml",
        "jobs:\n  push:\n    runs-on: ubuntu-latest\n    steps:\n      - run: mycli --token ${{ secrets.DEPLOY_TOKEN }} push\n",
    );
    fx.write(
        "README.md",
        "# mycli\n\nPass --token to the command to skip the login prompt; --password prompts for it.\n\n\
         ```sh\nmycli --token <your-token> push\n```\n",
    );
    assert_eq!(found(&fx), vec![]);
}

#[test]
fn tool_passwords_in_a_script_a_dockerfile_and_a_readme() {
    let fx = Fixture::new();
    let s: Vec<String> = (0..8).map(|_| secret()).collect();
    fx.write(
        "ops/deploy.sh",
        format!(
            "#!/bin/bash\n\
             curl -fsS --user deploy:'{}' https://ci.corp.net/job/build\n\
             docker login -u ci -p '{}' registry.corp.net\n\
             sshpass -p '{}' ssh -p 2222 deploy@10.0.4.12 uptime\n\
             curl -X PUT \\\n  -u admin:'{}' \\\n  https://es.corp.net:9200/_cluster/settings\n",
            s[0], s[1], s[2], s[3]
        ),
    );
    fx.write(
        "Dockerfile",
        format!(
            "FROM httpd:2.4\nRUN htpasswd -bc /usr/local/apache2/.htpasswd ops '{}'\n\
             RUN mysql -h db.corp.net -uroot -p'{}' app < /schema.sql\n",
            s[4], s[5]
        ),
    );
    fx.write(
        "README.md",
        format!(
            "# Operations\n\nQuery the directory:\n\n```sh\n\
             ldapsearch -x -H ldaps://ldap.corp.net -D cn=admin,dc=corp,dc=net -w '{}' -b dc=corp,dc=net\n\
             mongosh --host mongo.corp.net -u admin -p '{}' --authenticationDatabase admin\n```\n",
            s[6], s[7]
        ),
    );
    assert_eq!(
        found(&fx),
        vec![
            at("Dockerfile", 2, "htpasswd-batch-password"),
            at("Dockerfile", 3, "mysql-password-attached"),
            at("README.md", 6, "ldap-bind-password"),
            at("README.md", 7, "mongo-shell-password"),
            at("ops/deploy.sh", 2, "curl-user-password"),
            at("ops/deploy.sh", 3, "cli-login-password"),
            at("ops/deploy.sh", 4, "sshpass-password"),
            at("ops/deploy.sh", 6, "curl-user-password"),
        ]
    );
}

#[test]
fn tool_flags_given_lookups_ports_or_prompts_are_not_reported() {
    let fx = Fixture::new();
    fx.write(
        "ops/deploy.sh",
        "curl -u \"$NEXUS_USER:$NEXUS_PASSWORD\" https://nexus.corp.net/\n\
         curl --user-agent 'Mozilla/5.0 (X11; Linux x86_64)' https://corp.net/\n\
         docker login -u AWS -p \"$(aws ecr get-login-password)\" registry.corp.net\n\
         sshpass -e ssh -p 2222 deploy@10.0.4.12\n\
         mysql -uroot -p$MYSQL_ROOT_PASSWORD app\n\
         mysql -u root -p app_production\n\
         docker run --name mysql -p3306:3306 mysql:8\n\
         docker run -d --name mongo -p 27017:27017 mongo:7\n\
         mongosh -u admin -p --authenticationDatabase admin\n\
         ldapsearch -x -D cn=admin,dc=corp,dc=net -W -b dc=corp,dc=net\n\
         htpasswd -c /etc/nginx/.htpasswd admin\n\
         redis-cli -h cache.corp.net -a \"$REDIS_PASSWORD\" ping\n\
         keytool -importcert -file ca.pem -keystore cacerts -storepass changeit -noprompt\n\
         openssl pkcs12 -export -in tls.crt -inkey tls.key -out tls.p12 -passout env:P12_PASSWORD\n",
    );
    fx.write(
        ".github/workflows/release.yml",
        "jobs:\n  push:\n    runs-on: ubuntu-latest\n    steps:\n      \
         - run: docker login -u ci -p ${{ secrets.REGISTRY_TOKEN }} registry.corp.net\n      \
         - run: curl -u ${{ secrets.USER }}:${{ secrets.PASS }} https://nexus.corp.net/\n",
    );
    assert_eq!(found(&fx), vec![]);
}

#[test]
fn daemon_directives_in_redis_conf_properties_and_compose() {
    let fx = Fixture::new();
    let s: Vec<String> = (0..5).map(|_| secret()).collect();
    fx.write(
        "deploy/redis/redis.conf",
        format!(
            "bind 0.0.0.0\nport 6379\n# requirepass foobared\nrequirepass {}\nmasterauth \"{}\"\n",
            s[0], s[1]
        ),
    );
    fx.write(
        "deploy/redis/sentinel.conf",
        format!(
            "sentinel monitor mymaster 10.0.0.5 6379 2\nsentinel auth-pass mymaster {}\n",
            s[2]
        ),
    );
    fx.write(
        "docker-compose.yml",
        format!(
            "services:\n  cache:\n    image: redis:7\n    command: [\"redis-server\", \"--requirepass\", \"{}\"]\n",
            s[3]
        ),
    );
    fx.write(
        "src/main/resources/application.properties",
        format!(
            "# database\nspring.datasource.url jdbc:postgresql://db.corp.net/app\n\
             spring.datasource.username app\nspring.datasource.password {}\n\
             mail.smtp.password ${{MAIL_PASSWORD}}\nlogin.password Password\n",
            s[4]
        ),
    );
    assert_eq!(
        found(&fx),
        vec![
            at("deploy/redis/redis.conf", 4, "redis-config-password"),
            at("deploy/redis/redis.conf", 5, "redis-config-password"),
            at("deploy/redis/sentinel.conf", 2, "redis-config-password"),
            at("docker-compose.yml", 4, "redis-config-password"),
            at(
                "src/main/resources/application.properties",
                4,
                "java-properties-password"
            ),
        ]
    );
}

#[test]
fn a_key_and_value_form_outside_properties_files_and_redis_prose_are_not_reported() {
    let fx = Fixture::new();
    let pw = secret();
    // Space-separated `key value` is a properties form only: in a text file it is prose.
    fx.write("notes.txt", format!("db.password {pw}\n"));
    fx.write(
        "deploy/redis/redis.conf",
        "masterauth <master-password>\nrequirepass ${REDIS_PASSWORD}\n",
    );
    fx.write(
        "README.md",
        "The requirepass directive sets the password clients must send with AUTH.\n",
    );
    assert_eq!(found(&fx), vec![]);
}

/// Forms the assignment and URL rules already report keep their rule: the new rules add no
/// second finding for them.
#[test]
fn forms_other_rules_cover_keep_their_rule() {
    let fx = Fixture::new();
    let s: Vec<String> = (0..3).map(|_| secret()).collect();
    fx.write(
        "ops/restore.sh",
        format!(
            "PGPASSWORD='{}' psql -h db.corp.net -U app app < dump.sql\n\
             git clone https://deploy:{}@git.corp.net/app.git\n\
             sqlcmd -S sql.corp.net -U sa -P '{}' -Q 'SELECT 1'\n",
            s[0], s[1], s[2]
        ),
    );
    assert_eq!(
        found(&fx),
        vec![
            at("ops/restore.sh", 1, "db-password"),
            at("ops/restore.sh", 2, "url-credentials"),
            at("ops/restore.sh", 3, "sqlserver-sqlcmd-password"),
        ]
    );
}

#[test]
fn container_args_as_yaml_and_json_lists() {
    let fx = Fixture::new();
    let (pw, key) = (secret(), token());
    fx.write(
        "k8s/deployment.yaml",
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        \
             - name: app\n          args:\n            - serve\n            - --admin-password\n            \
             - \"{pw}\"\n            - --api-key={key}\n"
        ),
    );
    fx.write(
        "k8s/job.yaml",
        "spec:\n  containers:\n    - name: migrate\n      args:\n        - --db-password\n        \
         - $(DB_PASSWORD)\n        - --token\n        - --verbose\n",
    );
    assert_eq!(
        found(&fx),
        vec![
            at("k8s/deployment.yaml", 11, "cli-password-flag"),
            at("k8s/deployment.yaml", 12, "cli-secret-flag"),
        ]
    );
}

#[test]
fn password_files_of_openvpn_pgbouncer_and_postfix() {
    let fx = Fixture::new();
    let s: Vec<String> = (0..3).map(|_| secret()).collect();
    fx.write(
        "vpn/client.ovpn",
        format!(
            "client\nremote vpn.corp.net 1194\n<auth-user-pass>\nsvc-backup\n{}\n</auth-user-pass>\n",
            s[0]
        ),
    );
    fx.write(
        "deploy/pgbouncer/userlist.txt",
        format!("\"app\" \"{}\"\n\"report\" \"md5{}\"\n", s[1], hex(16)),
    );
    fx.write(
        "etc/postfix/sasl_passwd",
        format!("[smtp.corp.net]:587 alerts@corp.net:{}\n", s[2]),
    );
    assert_eq!(
        found(&fx),
        vec![
            at(
                "deploy/pgbouncer/userlist.txt",
                1,
                "pgbouncer-userlist-password"
            ),
            at("etc/postfix/sasl_passwd", 1, "postfix-sasl-password"),
            at("vpn/client.ovpn", 5, "openvpn-inline-auth"),
        ]
    );
}

#[test]
fn signing_backup_and_cache_tools_in_a_gitlab_pipeline() {
    let fx = Fixture::new();
    let s: Vec<String> = (0..5).map(|_| secret()).collect();
    fx.write(
        ".gitlab-ci.yml",
        format!(
            "release:\n  script:\n    \
             - keytool -importkeystore -srckeystore app.p12 -srcstorepass '{}' -destkeystore app.jks -deststorepass:env JKS_PASS\n    \
             - openssl pkcs12 -export -in tls.crt -inkey tls.key -out tls.p12 -passout 'pass:{}'\n    \
             - smbclient //fs01.corp.net/backup -U 'svc-backup%{}' -c 'put dump.tgz'\n    \
             - redis-cli -h cache.corp.net -a '{}' --no-auth-warning FLUSHALL\n    \
             - az login --service-principal -u \"$APP_ID\" -p '{}' --tenant corp.onmicrosoft.com\n",
            s[0], s[1], s[2], s[3], s[4]
        ),
    );
    assert_eq!(
        found(&fx),
        vec![
            at(".gitlab-ci.yml", 3, "keytool-store-password"),
            at(".gitlab-ci.yml", 4, "openssl-pass-argument"),
            at(".gitlab-ci.yml", 5, "smb-user-password"),
            at(".gitlab-ci.yml", 6, "redis-cli-password"),
            at(".gitlab-ci.yml", 7, "cli-login-password"),
        ]
    );
}

/// A password whose words each hold a digit (the spaced `.properties` form).
fn spaced() -> String {
    let w = password(12);
    format!("{}7 {}3 {}5", &w[..4], &w[4..8], &w[8..])
}

#[test]
fn curl_user_forms_env_password_names_name_value_pairs_and_spaced_properties() {
    let fx = Fixture::new();
    let (pw, user_token, pw2, env_pw, neo, k8s, ecs, props) = (
        secret(),
        token(),
        secret(),
        secret(),
        secret(),
        secret(),
        secret(),
        spaced(),
    );
    fx.write(
        "ops/call.sh",
        format!(
            "curl --user \"4f8c2a91d3e7\":\"{pw}\" https://api.corp.net/v1\n\
             curl -u \"{user_token}:\" https://api.corp.net/v1/charges\n\
             curl -u deploy: https://api.corp.net/\n\
             curl -u \"$API_KEY:\" https://api.corp.net/\n\
             curl -u 'svc':'{pw2}' https://api.corp.net/\n"
        ),
    );
    fx.write(
        ".env",
        format!("REDISCLI_AUTH={env_pw}\nNEO4J_AUTH=neo4j/{neo}\nNEO4J_AUTH=none\nREDISCLI_AUTH=$REDIS_PASSWORD\n"),
    );
    fx.write(
        "k8s/deploy.yaml",
        format!(
            "spec:\n  containers:\n    - name: app\n      env:\n        - name: ARTIFACTORY_PASS\n          value: \"{k8s}\"\n\
             \x20       - name: DB_PASSWORD\n          valueFrom:\n            secretKeyRef: {{name: db, key: password}}\n\
             \x20       - name: DB_PASSWORD_FILE\n          value: /run/secrets/db_password\n"
        ),
    );
    fx.write(
        "ecs/task.json",
        format!("{{\"environment\": [{{\"name\": \"STRIPE_API_KEY\", \"value\": \"{ecs}\"}}]}}\n"),
    );
    fx.write(
        "src/main/resources/application.properties",
        format!("spring.datasource.password = {props}\nlogin.password.label = Your password\n"),
    );
    assert_eq!(
        found(&fx),
        vec![
            at(".env", 1, "env-password-variable"),
            at(".env", 2, "env-password-variable"),
            at("ecs/task.json", 1, "env-name-value-secret"),
            at("k8s/deploy.yaml", 6, "env-name-value-secret"),
            at("ops/call.sh", 1, "curl-user-password"),
            at("ops/call.sh", 2, "curl-user-token"),
            at("ops/call.sh", 5, "curl-user-password"),
            at(
                "src/main/resources/application.properties",
                1,
                "java-properties-spaced-password"
            ),
        ]
    );
    // The whole spaced value is the secret, not its first word.
    let (_, report, _) = run_json(leaksweep(fx.path()).args([
        "scan",
        ".",
        "--no-ignore",
        "--format",
        "json",
        "--show-secrets",
    ]));
    let props_secret: Vec<String> = findings(&report)
        .iter()
        .filter(|f| f["rule_id"] == "java-properties-spaced-password")
        .map(|f| f["secret"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(props_secret, vec![props]);
}
