//! Credentials in the config files of common frameworks and tools, one test per family: each
//! file is written at its usual path in the shape its tool documents, with generated secrets,
//! and beside them the same keys holding environment lookups, templates, placeholders and empty
//! values. The real binary must report exactly the secrets, each under its rule and at its line,
//! and nothing else.

use crate::common::{
    b64url_from, draw, findings, hex_from, password_from, scan_json_raw, seeded_rng, Fixture,
};
use rand::rngs::StdRng;

/// `(path, line, rule, secret)` of one finding.
type Found = (String, u64, String, String);

const ALNUM: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

/// A typed password: mixed letters, digits and symbols, starting with a letter or digit (a
/// leading `!` or `*` means something else in YAML).
fn typed(rng: &mut StdRng) -> String {
    format!("{}{}", draw(rng, ALNUM, 1), password_from(rng, 15))
}

/// Letters and digits only, as tokens and generated passwords are (with a digit at least: a
/// run of letters alone may read as a word).
fn alnum(rng: &mut StdRng, n: usize) -> String {
    format!("{}{}", draw(rng, ALNUM, n - 1), draw(rng, b"23456789", 1))
}

/// An AWS-style secret access key: base64 of 30 random bytes.
fn aws_style(rng: &mut StdRng) -> String {
    use base64::Engine;
    let bytes: Vec<u8> = (0..30).map(|_| rand::Rng::gen(rng)).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Writes `files` into a fresh tree, scans it and returns every finding, sorted.
fn scan(files: &[(&str, String)]) -> Vec<Found> {
    let fx = Fixture::new();
    for (path, text) in files {
        fx.write(path, text);
    }
    let (code, report, stderr) = scan_json_raw(fx.path());
    assert!(code == 0 || code == 1, "exit {code}: {stderr}");
    let mut found: Vec<Found> = findings(&report)
        .iter()
        .map(|f| {
            (
                f["path"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("./")
                    .to_string(),
                f["line"].as_u64().unwrap(),
                f["rule_id"].as_str().unwrap().to_string(),
                f["secret"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    found
}

/// The expected findings, sorted, from `(path, line, rule, secret)`.
fn expect(items: &[(&str, u64, &str, &str)]) -> Vec<Found> {
    let mut v: Vec<Found> = items
        .iter()
        .map(|(p, l, r, s)| (p.to_string(), *l, r.to_string(), s.to_string()))
        .collect();
    v.sort();
    v
}

#[test]
fn dotnet_connection_strings_app_settings_and_feeds() {
    let rng = &mut seeded_rng();
    let (sql, npg, ef, smtp, api, feed) = (
        typed(rng),
        typed(rng),
        typed(rng),
        typed(rng),
        b64url_from(rng, 32),
        typed(rng),
    );
    let account_key = {
        use base64::Engine;
        let bytes: Vec<u8> = (0..64).map(|_| rand::Rng::gen(rng)).collect();
        base64::engine::general_purpose::STANDARD.encode(bytes)
    };
    let appsettings = format!(
        r#"{{
  "ConnectionStrings": {{
    "OrdersDb": "Server=tcp:orders-sql.database.windows.net,1433;Initial Catalog=Orders;User ID=orders_app;Password={sql};Encrypt=True;",
    "Reporting": "Host=reports.internal;Port=5432;Database=reports;Username=reporter;Password={npg}",
    "Staging": "Server=sql-stg;Database=Orders;User Id=orders;Password=${{DB_PASSWORD}};",
    "Local": "Server=(localdb)\\mssqllocaldb;Database=Orders;Trusted_Connection=True;"
  }}
}}
"#
    );
    let web_config = format!(
        r##"<configuration>
  <connectionStrings>
    <add name="OrdersEntities" connectionString="metadata=res://*/Orders.csdl;provider=System.Data.SqlClient;provider connection string=&quot;data source=sql01;initial catalog=Orders;user id=ef_orders;password={ef};App=EntityFramework&quot;" providerName="System.Data.EntityClient" />
  </connectionStrings>
  <appSettings>
    <add key="SmtpHost" value="smtp.office365.com" />
    <add key="SmtpPassword" value="{smtp}" />
    <add key="Payments:ApiSecret" value="{api}" />
    <add key="BackupPassword" value="" />
    <add key="ReportsPassword" value="#{{ReportsPassword}}#" />
    <add key="PasswordMinLength" value="12" />
  </appSettings>
</configuration>
"##
    );
    let nuget = format!(
        r#"<configuration>
  <packageSourceCredentials>
    <Contoso>
      <add key="Username" value="build@contoso-corp.net" />
      <add key="ClearTextPassword" value="{feed}" />
    </Contoso>
    <Internal>
      <add key="ClearTextPassword" value="%NUGET_PASSWORD%" />
    </Internal>
  </packageSourceCredentials>
</configuration>
"#
    );
    let local_settings = format!(
        r#"{{
  "IsEncrypted": false,
  "Values": {{
    "AzureWebJobsStorage": "DefaultEndpointsProtocol=https;AccountName=stordersfunc01;AccountKey={account_key};EndpointSuffix=core.windows.net",
    "Dev": "UseDevelopmentStorage=true"
  }}
}}
"#
    );
    let found = scan(&[
        ("src/Orders.Api/appsettings.json", appsettings),
        ("Web.config", web_config),
        ("nuget.config", nuget),
        ("FunctionApp/local.settings.json", local_settings),
    ]);
    assert_eq!(
        found,
        expect(&[
            (
                "src/Orders.Api/appsettings.json",
                3,
                "dotnet-connection-string",
                &sql
            ),
            (
                "src/Orders.Api/appsettings.json",
                4,
                "dotnet-connection-string",
                &npg
            ),
            ("Web.config", 3, "dotnet-connection-string", &ef),
            ("Web.config", 7, "dotnet-appsettings-secret", &smtp),
            ("Web.config", 8, "dotnet-appsettings-secret", &api),
            ("nuget.config", 5, "nuget-config-password", &feed),
            (
                "FunctionApp/local.settings.json",
                4,
                "azure-storage-account-key",
                &account_key
            ),
        ])
    );
}

#[test]
fn java_spring_hibernate_tomcat_maven_gradle_and_jaas() {
    let rng = &mut seeded_rng();
    let (ds, mail, jwt) = (typed(rng), alnum(rng, 20), b64url_from(rng, 32));
    let (hib, hib2, tomcat, maven) = (typed(rng), typed(rng), typed(rng), typed(rng));
    let (signing, ossrh, store, key, repo, kafka) = (
        typed(rng),
        typed(rng),
        typed(rng),
        typed(rng),
        typed(rng),
        typed(rng),
    );
    let application_yml = format!(
        "spring:\n  datasource:\n    url: jdbc:postgresql://orders-db.internal:5432/orders\n    username: orders\n    password: \"{ds}\"\n  mail:\n    host: smtp.gmail.com\n    password: {mail}\njwt:\n  secret: {jwt}\n"
    );
    let application_dev = "spring:\n  datasource:\n    password: ${DB_PASSWORD}\n  mail:\n    password: ${MAIL_PASSWORD:}\njwt:\n  secret: ${JWT_SECRET}\n".to_string();
    let properties = "spring.datasource.password=${DB_PASSWORD}\nspring.mail.password=\njwt.secret=#{environment.JWT_SECRET}\n".to_string();
    let hibernate = format!(
        r#"<hibernate-configuration>
  <session-factory>
    <property name="connection.username">orders</property>
    <property name="connection.password">{hib}</property>
    <property name="hibernate.connection.password">{hib2}</property>
    <property name="hibernate.connection.password">${{db.password}}</property>
  </session-factory>
</hibernate-configuration>
"#
    );
    let context = format!(
        r#"<Context>
  <Resource name="jdbc/OrdersDB" auth="Container" type="javax.sql.DataSource"
            username="orders" password="{tomcat}" driverClassName="com.mysql.cj.jdbc.Driver"/>
</Context>
"#
    );
    let settings = format!(
        "<settings>\n  <servers>\n    <server>\n      <id>ossrh</id>\n      <username>acme-release</username>\n      <password>{maven}</password>\n    </server>\n    <server>\n      <id>ci</id>\n      <password>${{env.CI_DEPLOY_PASSWORD}}</password>\n    </server>\n  </servers>\n</settings>\n"
    );
    let gradle_properties = format!(
        "signing.keyId=24875D73\nsigning.password={signing}\nossrhPassword={ossrh}\nmavenCentralPassword=<your-password>\n"
    );
    let build_gradle = format!(
        r#"android {{
    signingConfigs {{
        release {{
            storePassword "{store}"
            keyPassword '{key}'
        }}
        debug {{
            storePassword keystoreProperties['storePassword']
        }}
    }}
}}
repositories {{
    maven {{
        credentials {{
            username "deployer"
            password "{repo}"
        }}
    }}
    maven {{
        credentials {{
            password System.getenv("NEXUS_PASSWORD")
        }}
    }}
}}
"#
    );
    let jaas = format!(
        "KafkaClient {{\n  org.apache.kafka.common.security.plain.PlainLoginModule required\n  username=\"orders-svc\"\n  password=\"{kafka}\";\n}};\n"
    );
    let found = scan(&[
        ("src/main/resources/application.yml", application_yml),
        ("src/main/resources/application-dev.yml", application_dev),
        ("src/main/resources/application.properties", properties),
        ("src/main/resources/hibernate.cfg.xml", hibernate),
        ("src/main/webapp/META-INF/context.xml", context),
        (".m2/settings.xml", settings),
        ("gradle.properties", gradle_properties),
        ("app/build.gradle", build_gradle),
        ("config/kafka_client_jaas.conf", jaas),
    ]);
    let yml = "src/main/resources/application.yml";
    let hib_path = "src/main/resources/hibernate.cfg.xml";
    assert_eq!(
        found,
        expect(&[
            (yml, 5, "db-password-nested", &ds),
            (yml, 8, "password-assignment", &mail),
            (yml, 10, "jwt-secret-nested", &jwt),
            (hib_path, 4, "xml-property-password", &hib),
            (hib_path, 5, "xml-property-password", &hib2),
            (
                "src/main/webapp/META-INF/context.xml",
                3,
                "password-assignment",
                &tomcat
            ),
            (".m2/settings.xml", 6, "xml-password-element", &maven),
            ("gradle.properties", 2, "password-assignment", &signing),
            ("gradle.properties", 3, "password-assignment", &ossrh),
            ("app/build.gradle", 4, "gradle-password", &store),
            ("app/build.gradle", 5, "gradle-password", &key),
            ("app/build.gradle", 16, "gradle-password", &repo),
            (
                "config/kafka_client_jaas.conf",
                4,
                "password-assignment",
                &kafka
            ),
        ])
    );
}

#[test]
fn python_django_sqlalchemy_flask_alembic_pypirc_celery_and_airflow() {
    let rng = &mut seeded_rng();
    let (django, sqla, flask_key, flask_db, alembic, pypi) = (
        typed(rng),
        typed(rng),
        hex_from(rng, 16),
        typed(rng),
        typed(rng),
        typed(rng),
    );
    let (broker, fernet, airflow_db) = (
        alnum(rng, 20),
        format!("{}=", b64url_from(rng, 32)),
        typed(rng),
    );
    let settings = format!(
        "DATABASES = {{\n    'default': {{\n        'ENGINE': 'django.db.backends.postgresql',\n        'NAME': 'orders',\n        'PASSWORD': '{django}',\n        'HOST': 'orders-db.internal',\n    }},\n    'replica': {{\n        'PASSWORD': os.environ['REPLICA_PASSWORD'],\n    }},\n}}\n"
    );
    let db = format!(
        "engine = create_engine(\"postgresql+psycopg2://orders:{sqla}@orders-db.internal:5432/orders\")\nlocal = create_engine(\"postgresql+psycopg2://orders:${{DB_PASSWORD}}@orders-db.internal/orders\")\n"
    );
    let flask = format!(
        "app = Flask(__name__)\napp.config['SECRET_KEY'] = '{flask_key}'\napp.config[\"SQLALCHEMY_DATABASE_URI\"] = \"postgresql://orders:{flask_db}@orders-db.internal/orders\"\napp.config['SESSION_SECRET'] = os.environ.get('SESSION_SECRET')\napp.config['WTF_CSRF_SECRET_KEY'] = 'dev'\n"
    );
    let alembic_ini = format!(
        "[alembic]\nscript_location = migrations\nsqlalchemy.url = mysql+pymysql://alembic:{alembic}@orders-db.internal/orders\n"
    );
    let pypirc = format!(
        "[distutils]\nindex-servers =\n    nexus\n\n[nexus]\nrepository = https://nexus.acme-corp.net/repository/pypi-internal/\nusername = deployer\npassword = {pypi}\n"
    );
    let celery = format!(
        "broker_url = 'redis://:{broker}@redis.internal:6379/0'\nresult_backend = 'redis://:%(REDIS_PASSWORD)s@redis.internal:6379/1'\n"
    );
    let airflow = format!(
        "[core]\nfernet_key = {fernet}\n[database]\nsql_alchemy_conn = postgresql+psycopg2://airflow:{airflow_db}@airflow-db.internal/airflow\n"
    );
    let found = scan(&[
        ("orders/settings.py", settings),
        ("app/db.py", db),
        ("app/__init__.py", flask),
        ("alembic.ini", alembic_ini),
        (".pypirc", pypirc),
        ("orders/celeryconfig.py", celery),
        ("airflow/airflow.cfg", airflow),
    ]);
    assert_eq!(
        found,
        expect(&[
            ("orders/settings.py", 5, "password-assignment", &django),
            ("app/db.py", 1, "db-connection-uri", &sqla),
            ("app/__init__.py", 2, "subscript-secret", &flask_key),
            ("app/__init__.py", 3, "db-connection-uri", &flask_db),
            ("alembic.ini", 3, "db-connection-uri", &alembic),
            (".pypirc", 8, "password-assignment", &pypi),
            ("orders/celeryconfig.py", 1, "db-connection-uri", &broker),
            ("airflow/airflow.cfg", 2, "encryption-key", &fernet),
            ("airflow/airflow.cfg", 4, "db-connection-uri", &airflow_db),
        ])
    );
}

#[test]
fn ruby_database_yml_secrets_master_key_and_gem_credentials() {
    let rng = &mut seeded_rng();
    let (db, base, webhook, master, gem) = (
        typed(rng),
        hex_from(rng, 64),
        b64url_from(rng, 32),
        hex_from(rng, 16),
        hex_from(rng, 16),
    );
    let database_yml = format!(
        "default: &default\n  adapter: postgresql\n  pool: <%= ENV.fetch(\"RAILS_MAX_THREADS\") {{ 5 }} %>\n\nproduction:\n  <<: *default\n  database: orders_production\n  username: orders\n  password: \"{db}\"\n\nstaging:\n  <<: *default\n  password: <%= ENV['ORDERS_DATABASE_PASSWORD'] %>\n\ndevelopment:\n  password:\n"
    );
    let secrets_yml = format!(
        "production:\n  secret_key_base: {base}\n  stripe_webhook_secret: {webhook}\nstaging:\n  secret_key_base: <%= ENV[\"SECRET_KEY_BASE\"] %>\n"
    );
    let found = scan(&[
        ("config/database.yml", database_yml),
        ("config/secrets.yml", secrets_yml),
        ("config/master.key", format!("{master}\n")),
        (
            ".gem/credentials",
            format!("---\n:rubygems_api_key: {gem}\n"),
        ),
    ]);
    assert_eq!(
        found,
        expect(&[
            ("config/database.yml", 9, "password-assignment", &db),
            ("config/secrets.yml", 2, "rails-secret-key-base", &base),
            ("config/secrets.yml", 3, "generic-secret", &webhook),
            ("config/master.key", 1, "rails-master-key", &master),
            (".gem/credentials", 2, "generic-secret", &gem),
        ])
    );
}

#[test]
fn js_knex_orm_sequelize_nodemailer_next_compose_and_npmrc() {
    let rng = &mut seeded_rng();
    let (knex, orm, seq, mail, mail2, next) = (
        typed(rng),
        typed(rng),
        typed(rng),
        typed(rng),
        alnum(rng, 20),
        b64url_from(rng, 32),
    );
    let (pg, rabbit, mysql, minio) = (typed(rng), typed(rng), typed(rng), typed(rng));
    let npm_token = {
        let h = hex_from(rng, 16);
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    };
    let knexfile = format!(
        "module.exports = {{\n  production: {{\n    client: 'postgresql',\n    connection: {{\n      database: 'orders',\n      user:     'orders',\n      password: '{knex}'\n    }},\n  }},\n  staging: {{\n    connection: {{ password: process.env.DB_PASSWORD }},\n  }},\n}};\n"
    );
    let ormconfig = format!(
        "{{\n  \"type\": \"mysql\",\n  \"host\": \"orders-db.internal\",\n  \"username\": \"orders\",\n  \"password\": \"{orm}\",\n  \"database\": \"orders\"\n}}\n"
    );
    let sequelize = format!(
        "{{\n  \"development\": {{\n    \"username\": \"root\",\n    \"password\": \"{seq}\",\n    \"dialect\": \"mysql\"\n  }},\n  \"test\": {{\n    \"username\": \"root\",\n    \"password\": null\n  }}\n}}\n"
    );
    let mailer = format!(
        "const transporter = nodemailer.createTransport({{\n  host: \"smtp.mailgun.org\",\n  auth: {{\n    user: \"postmaster@mg.acme-corp.net\",\n    pass: \"{mail}\",\n  }},\n}});\nconst other = nodemailer.createTransport({{ service: 'gmail', auth: {{ user: 'ops@acme-corp.net', pass: '{mail2}' }} }});\nconst dev = nodemailer.createTransport({{ auth: {{ user: process.env.SMTP_USER, pass: process.env.SMTP_PASS }} }});\nconst mine = nodemailer.createTransport({{ auth: {{ user, pass }} }});\n"
    );
    let next_config = format!(
        "module.exports = {{\n  env: {{\n    API_SECRET: '{next}',\n    API_URL: 'https://api.acme-corp.net',\n  }},\n}}\n"
    );
    let compose = format!(
        "services:\n  db:\n    image: postgres:16\n    environment:\n      - POSTGRES_USER=orders\n      - POSTGRES_PASSWORD={pg}\n  rabbit:\n    environment:\n      - RABBITMQ_DEFAULT_PASS={rabbit}\n  mysql:\n    environment:\n      MYSQL_ROOT_PASSWORD: \"{mysql}\"\n      MYSQL_PASSWORD: ${{MYSQL_PASSWORD:-}}\n  minio:\n    environment:\n      MINIO_ROOT_PASSWORD: {minio}\n  cache:\n    environment:\n      - REDIS_PASSWORD=${{REDIS_PASSWORD}}\n      - KEYCLOAK_ADMIN_PASSWORD=changeme\n"
    );
    let npmrc = format!(
        "registry=https://nexus.acme-corp.net/repository/npm-group/\n//nexus.acme-corp.net/repository/npm-group/:_authToken={npm_token}\n//registry.acme-corp.net/:_authToken=${{NPM_TOKEN}}\n"
    );
    let found = scan(&[
        ("knexfile.js", knexfile),
        ("ormconfig.json", ormconfig),
        ("config/config.json", sequelize),
        ("src/mailer.js", mailer),
        ("next.config.js", next_config),
        ("docker-compose.yml", compose),
        (".npmrc", npmrc),
    ]);
    assert_eq!(
        found,
        expect(&[
            ("knexfile.js", 7, "password-assignment", &knex),
            ("ormconfig.json", 5, "password-assignment", &orm),
            ("config/config.json", 4, "password-assignment", &seq),
            ("src/mailer.js", 5, "auth-object-pass", &mail),
            ("src/mailer.js", 8, "auth-object-pass", &mail2),
            ("next.config.js", 3, "generic-secret", &next),
            ("docker-compose.yml", 6, "db-password", &pg),
            ("docker-compose.yml", 9, "db-password", &rabbit),
            ("docker-compose.yml", 12, "db-password", &mysql),
            ("docker-compose.yml", 16, "password-assignment", &minio),
            (".npmrc", 2, "npmrc-auth-token", &npm_token),
        ])
    );
}

#[test]
fn php_laravel_symfony_composer_and_phpmyadmin() {
    let rng = &mut seeded_rng();
    let (db, mail, fallback, symfony, basic, github) = (
        typed(rng),
        alnum(rng, 20),
        typed(rng),
        typed(rng),
        hex_from(rng, 20),
        hex_from(rng, 20),
    );
    let (gitlab, blowfish, pma) = (alnum(rng, 20), b64url_from(rng, 32), typed(rng));
    let env = format!(
        "APP_ENV=production\nDB_HOST=orders-db.internal\nDB_PASSWORD={db}\nMAIL_PASSWORD={mail}\nREDIS_PASSWORD=null\n"
    );
    let database_php = format!(
        "<?php\nreturn [\n    'mysql' => [\n        'host' => env('DB_HOST', 'orders-db.internal'),\n        'password' => env('DB_PASSWORD', '{fallback}'),\n    ],\n    'pgsql' => [\n        'password' => env('PG_PASSWORD'),\n        'secret' => env('PG_SECRET', ''),\n        'token' => env('PG_TOKEN', null),\n    ],\n];\n"
    );
    let symfony_env = format!(
        "DATABASE_URL=\"postgresql://orders:{symfony}@orders-db.internal:5432/orders?serverVersion=16&charset=utf8\"\n# DATABASE_URL=\"postgresql://app:!ChangeMe!@127.0.0.1:5432/app?serverVersion=16\"\n"
    );
    let auth_json = format!(
        "{{\n    \"http-basic\": {{\n        \"repo.packagist.com\": {{\n            \"username\": \"token\",\n            \"password\": \"{basic}\"\n        }}\n    }},\n    \"github-oauth\": {{\n        \"github.com\": \"{github}\"\n    }},\n    \"gitlab-token\": {{\n        \"gitlab.acme-corp.net\": \"{gitlab}\"\n    }},\n    \"bearer\": {{\n        \"repo.acme-corp.net\": \"<token>\"\n    }}\n}}\n"
    );
    let pma_config = format!(
        "<?php\n$cfg['blowfish_secret'] = '{blowfish}';\n$i = 0;\n$i++;\n$cfg['Servers'][$i]['user'] = 'pma';\n$cfg['Servers'][$i]['password'] = '{pma}';\n$cfg['Servers'][$i]['controlpass'] = '';\n"
    );
    let found = scan(&[
        (".env", env),
        ("config/database.php", database_php),
        (".env.prod", symfony_env),
        ("auth.json", auth_json),
        ("config.inc.php", pma_config),
    ]);
    assert_eq!(
        found,
        expect(&[
            (".env", 3, "db-password", &db),
            (".env", 4, "password-assignment", &mail),
            ("config/database.php", 5, "db-password", &fallback),
            (".env.prod", 1, "db-connection-uri", &symfony),
            ("auth.json", 5, "password-assignment", &basic),
            ("auth.json", 9, "composer-auth-token", &github),
            ("auth.json", 12, "composer-auth-token", &gitlab),
            ("config.inc.php", 2, "subscript-secret", &blowfish),
            ("config.inc.php", 6, "subscript-secret", &pma),
        ])
    );
}

#[test]
fn ops_ansible_terraform_helm_and_kubernetes() {
    let rng = &mut seeded_rng();
    let (inv, become_pass, ssh, tf, master, tfvars) = (
        typed(rng),
        typed(rng),
        typed(rng),
        typed(rng),
        typed(rng),
        typed(rng),
    );
    let (root, redis, k8s, token) = (typed(rng), alnum(rng, 20), typed(rng), b64url_from(rng, 32));
    let hosts = format!(
        "[web]\nweb1.acme-corp.net ansible_host=10.0.4.11 ansible_user=deploy ansible_password={inv}\n\n[web:vars]\nansible_become_pass={become_pass}\n"
    );
    let group_vars = format!(
        "---\nansible_user: deploy\nansible_ssh_pass: \"{ssh}\"\nansible_become_password: \"{{{{ vault_become_pass }}}}\"\nansible_password: !vault |\n          $ANSIBLE_VAULT;1.1;AES256\n          62313365396662343061393464336163383764373764613633653634306231386433626436623361\n"
    );
    let main_tf = format!(
        "resource \"aws_db_instance\" \"orders\" {{\n  username = \"orders\"\n  password = \"{tf}\"\n}}\n\nresource \"aws_rds_cluster\" \"reports\" {{\n  master_password = \"{master}\"\n}}\n\nresource \"aws_db_instance\" \"audit\" {{\n  password = var.audit_password\n}}\n"
    );
    let values = format!(
        "mysql:\n  auth:\n    rootPassword: \"{root}\"\n    username: orders\nredis:\n  auth:\n    enabled: true\n    password: {redis}\n"
    );
    let template = "stringData:\n  password: {{ .Values.auth.password | quote }}\n".to_string();
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: orders-db\ntype: Opaque\nstringData:\n  username: orders\n  password: \"{k8s}\"\n  api-token: {token}\n"
    );
    let found = scan(&[
        ("inventory/hosts.ini", hosts),
        ("group_vars/all.yml", group_vars),
        ("infra/main.tf", main_tf),
        ("infra/prod.tfvars", format!("db_password = \"{tfvars}\"\n")),
        ("charts/orders/values.yaml", values),
        ("charts/orders/templates/secret.yaml", template),
        ("k8s/orders-secret.yaml", secret),
    ]);
    assert_eq!(
        found,
        expect(&[
            ("inventory/hosts.ini", 2, "ansible-password", &inv),
            ("inventory/hosts.ini", 5, "ansible-password", &become_pass),
            ("group_vars/all.yml", 3, "ansible-password", &ssh),
            ("infra/main.tf", 3, "password-assignment", &tf),
            ("infra/main.tf", 7, "password-assignment", &master),
            ("infra/prod.tfvars", 1, "db-password", &tfvars),
            ("charts/orders/values.yaml", 3, "password-assignment", &root),
            ("charts/orders/values.yaml", 8, "db-password-nested", &redis),
            ("k8s/orders-secret.yaml", 8, "password-assignment", &k8s),
            ("k8s/orders-secret.yaml", 9, "generic-secret", &token),
        ])
    );
}

#[test]
fn ops_client_files_of_transfer_mail_wifi_and_ci_tools() {
    let rng = &mut seeded_rng();
    let aws_secret = aws_style(rng);
    let (obscured, wasabi, ftp) = (b64url_from(rng, 32), aws_style(rng), typed(rng));
    let (sftp, cred, pgpass, mycnf, psk, psk_hex) = (
        typed(rng),
        typed(rng),
        typed(rng),
        typed(rng),
        typed(rng),
        hex_from(rng, 32),
    );
    let (jenkins, jenkins_text, msmtp) = (
        format!(
            "AQAAABAAAAAQ{}",
            b64url_from(rng, 48).replace(['-', '_'], "A")
        ),
        format!(
            "AQAAABAAAAAw{}",
            b64url_from(rng, 48).replace(['-', '_'], "B")
        ),
        typed(rng),
    );
    let ftp_b64 = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(&ftp)
    };
    let files = [
        (
            ".s3cfg",
            format!("[default]\nhost_base = s3.amazonaws.com\nsecret_key = {aws_secret}\n[ci]\nsecret_key = <secret-key>\n"),
        ),
        (
            ".config/rclone/rclone.conf",
            format!("[backup]\ntype = sftp\nhost = files.acme-corp.net\nuser = backup\npass = {obscured}\n\n[wasabi]\ntype = s3\nsecret_access_key = {wasabi}\n\n[local]\ntype = sftp\npass = \n"),
        ),
        (
            ".config/filezilla/sitemanager.xml",
            format!("<FileZilla3>\n  <Servers>\n    <Server>\n      <Host>ftp.acme-corp.net</Host>\n      <User>deploy</User>\n      <Pass encoding=\"base64\">{ftp_b64}</Pass>\n    </Server>\n  </Servers>\n</FileZilla3>\n"),
        ),
        (
            ".vscode/sftp.json",
            format!("{{\n    \"name\": \"Production\",\n    \"host\": \"files.acme-corp.net\",\n    \"username\": \"deploy\",\n    \"password\": \"{sftp}\",\n    \"remotePath\": \"/var/www/orders\"\n}}\n"),
        ),
        (".git-credentials", format!("https://deploy:{cred}@git.acme-corp.net\n")),
        (".pgpass", format!("orders-db.internal:5432:orders:orders:{pgpass}\n")),
        (
            ".my.cnf",
            format!("[client]\nuser=orders\npassword=\"{mycnf}\"\n\n[mysqldump]\npassword=\n"),
        ),
        (
            "etc/wpa_supplicant/wpa_supplicant.conf",
            format!("network={{\n    ssid=\"AcmeOffice\"\n    psk=\"{psk}\"\n}}\nnetwork={{\n    ssid=\"AcmeLab\"\n    psk={psk_hex}\n}}\nnetwork={{\n    ssid=\"Guest\"\n    psk=\"your-wifi-password\"\n}}\n"),
        ),
        (
            "jenkins/credentials.xml",
            format!("<com.cloudbees.plugins.credentials.SystemCredentialsProvider>\n  <domainCredentialsMap>\n    <com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl>\n      <username>deploy</username>\n      <password>{{{jenkins}}}</password>\n    </com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl>\n    <org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl>\n      <secret>{{{jenkins_text}}}</secret>\n    </org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl>\n  </domainCredentialsMap>\n</com.cloudbees.plugins.credentials.SystemCredentialsProvider>\n"),
        ),
        (
            ".msmtprc",
            format!("account default\nhost smtp.acme-corp.net\nauth on\nuser ops@acme-corp.net\npassword {msmtp}\n\naccount backup\npasswordeval \"pass show smtp/backup\"\n"),
        ),
    ];
    let found = scan(&files);
    assert_eq!(
        found,
        expect(&[
            (".s3cfg", 3, "generic-secret", &aws_secret),
            (
                ".config/rclone/rclone.conf",
                5,
                "rclone-obscured-password",
                &obscured
            ),
            (
                ".config/rclone/rclone.conf",
                9,
                "aws-secret-access-key",
                &wasabi
            ),
            (
                ".config/filezilla/sitemanager.xml",
                6,
                "xml-password-element",
                &ftp_b64
            ),
            (".vscode/sftp.json", 5, "password-assignment", &sftp),
            (".git-credentials", 1, "url-credentials", &cred),
            (".pgpass", 1, "pgpass-password", &pgpass),
            (".my.cnf", 3, "password-assignment", &mycnf),
            (
                "etc/wpa_supplicant/wpa_supplicant.conf",
                3,
                "wifi-psk",
                &psk
            ),
            (
                "etc/wpa_supplicant/wpa_supplicant.conf",
                7,
                "wifi-psk",
                &psk_hex
            ),
            (
                "jenkins/credentials.xml",
                5,
                "jenkins-encrypted-secret",
                &jenkins
            ),
            (
                "jenkins/credentials.xml",
                8,
                "jenkins-encrypted-secret",
                &jenkins_text
            ),
            (".msmtprc", 5, "msmtp-password", &msmtp),
        ])
    );
}

#[test]
fn directives_calls_xml_elements_plists_android_resources_and_terraform_defaults() {
    let rng = &mut seeded_rng();
    let (jwt, db, apache, fish) = (alnum(rng, 32), typed(rng), typed(rng), alnum(rng, 32));
    let (setenv, prop, dflt, header) = (typed(rng), alnum(rng, 32), alnum(rng, 32), alnum(rng, 32));
    let (pom, plist, android, tf) = (alnum(rng, 32), alnum(rng, 32), alnum(rng, 32), typed(rng));
    let (php, fallback) = (alnum(rng, 32), alnum(rng, 32));
    let (spring, spring_db, compose) = (alnum(rng, 32), typed(rng), typed(rng));
    let annotated = alnum(rng, 32);
    // The older form of ENV (a space, no `=`) and its neighbours: a variable read from the build
    // arguments, a non-secret name, and a directive that is not at the start of its line.
    let dockerfile = format!(
        "FROM node:20\nENV JWT_SECRET {jwt}\nENV DATABASE_PASSWORD {db}\nENV DB_PASSWORD $DB_PASSWORD\nENV NODE_ENV production\nRUN echo ENV JWT_SECRET {jwt}x\n"
    );
    let httpd = format!("SetEnv DB_PASSWORD {apache}\nSetEnv APP_NAME {apache}\n");
    let fish_conf = format!("set -gx JWT_SECRET {fish}\nset -gx EDITOR vim\n");
    let go = format!(
        "os.Setenv(\"DB_PASSWORD\", \"{setenv}\")\nos.Setenv(\"DB_PASSWORD\", password)\nos.Setenv(\"DB_HOST\", \"{setenv}\")\n"
    );
    let java = format!(
        "System.setProperty(\"jwt.secret\", \"{prop}\");\nlocalStorage.setItem(\"token\", response.token);\n"
    );
    let py = format!(
        "os.environ.setdefault(\"NEXTAUTH_SECRET\", \"{dflt}\")\nheaders.put(\"X-Api-Key\", \"{header}\")\nassert check(\"token\", \"definitelyInvalidToken\")\n"
    );
    let pom_xml = format!(
        "<properties>\n  <jwt.secret>{pom}</jwt.secret>\n  <jwt.expiry>3600</jwt.expiry>\n  <api.key>${{API_KEY}}</api.key>\n</properties>\n"
    );
    let info = format!(
        "<dict>\n  <key>API_KEY</key>\n  <string>{plist}</string>\n  <key>CFBundleName</key>\n  <string>{plist}</string>\n</dict>\n"
    );
    let strings = format!(
        "<resources>\n  <string name=\"api_secret\" translatable=\"false\">{android}</string>\n  <string name=\"password\">Password</string>\n</resources>\n"
    );
    let variables = format!(
        "variable \"db_password\" {{\n  type      = string\n  sensitive = true\n  default   = \"{tf}\"\n}}\n\nvariable \"region\" {{\n  default = \"{tf}\"\n}}\n\nvariable \"api_token\" {{\n  type = string\n}}\n"
    );
    let settings = format!(
        "<?php\n$config['encryption_key'] = '{php}';\n$config['cookie_prefix'] = '{php}';\n"
    );
    let js = format!(
        "const key = process.env.ENCRYPTION_KEY ?? '{fallback}';\nconst host = process.env.DB_HOST ?? '{fallback}';\n"
    );
    // A reference with a default: the default is the literal, reported once, alone.
    let spring_yml = format!(
        "jwt:\n  secret: ${{JWT_SECRET:{spring}}}\nspring:\n  datasource:\n    password: ${{DB_PASSWORD:{spring_db}}}\n    username: ${{DB_USER:app}}\napp:\n  api-key: ${{API_KEY}}\n"
    );
    let compose_yml = format!(
        "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: \"${{POSTGRES_PASSWORD:-{compose}}}\"\n      POSTGRES_USER: ${{POSTGRES_USER:-app}}\n"
    );
    let config_java = format!(
        "@Value(\"${{jwt.secret:{annotated}}}\")\nprivate String secret;\n@Value(\"${{jwt.secret}}\")\nprivate String other;\n"
    );
    let found = scan(&[
        ("src/main/java/JwtConfig.java", config_java),
        ("src/main/resources/application.yml", spring_yml),
        ("docker-compose.yml", compose_yml),
        ("Dockerfile", dockerfile),
        ("conf/httpd.conf", httpd),
        ("config.fish", fish_conf),
        ("cmd/main.go", go),
        ("src/Main.java", java),
        ("app/settings.py", py),
        ("pom.xml", pom_xml),
        ("ios/Info.plist", info),
        ("android/res/values/secrets.xml", strings),
        ("infra/variables.tf", variables),
        ("application/config/config.php", settings),
        ("src/crypto.js", js),
    ]);
    assert_eq!(
        found,
        expect(&[
            ("Dockerfile", 2, "jwt-secret", &jwt),
            ("Dockerfile", 3, "db-password", &db),
            ("conf/httpd.conf", 1, "db-password", &apache),
            ("config.fish", 1, "jwt-secret", &fish),
            ("cmd/main.go", 1, "db-password", &setenv),
            ("src/Main.java", 1, "jwt-secret", &prop),
            ("app/settings.py", 1, "nextauth-secret", &dflt),
            ("app/settings.py", 2, "generic-secret", &header),
            ("pom.xml", 2, "xml-secret-element", &pom),
            ("ios/Info.plist", 3, "plist-secret", &plist),
            (
                "android/res/values/secrets.xml",
                2,
                "android-string-secret",
                &android
            ),
            ("infra/variables.tf", 4, "terraform-variable-default", &tf),
            ("application/config/config.php", 2, "subscript-secret", &php),
            ("src/crypto.js", 1, "env-fallback-secret", &fallback),
            (
                "src/main/resources/application.yml",
                2,
                "jwt-secret",
                &spring
            ),
            (
                "src/main/resources/application.yml",
                5,
                "db-password",
                &spring_db
            ),
            ("docker-compose.yml", 4, "db-password", &compose),
            ("src/main/java/JwtConfig.java", 1, "jwt-secret", &annotated),
        ])
    );
}
