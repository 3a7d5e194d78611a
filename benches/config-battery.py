#!/usr/bin/env python3
"""Recall and silence on the config files of common frameworks and tools.

Writes one realistic file per format at its usual path (the shape each tool's documentation
shows), with generated secrets of a realistic shape, plus the same files with environment
lookups, templates, placeholders and empty values; scans the folder with leaksweep and reports
per format whether every secret was found (rule and line) and whether the negatives stayed silent.

    benches/config-battery.py --bin target/release/leaksweep [--seed N] [--misses]

A case's text marks each secret as {S1}, {S2}, ... ; `gen` says how each is drawn.
"""
import argparse
import base64
import json
import os
import random
import subprocess
import sys
import tempfile

PW = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SYM = "!^*+-_#%"


PW_LEN = 18


def password(rng, n=None):
    """Letters, digits and a symbol or two: what a person or a password manager types."""
    n = n or PW_LEN
    s = [rng.choice(PW) for _ in range(n - 2)] + [rng.choice(SYM), rng.choice("23456789")]
    rng.shuffle(s)
    return "".join(s)


def alnum(rng, n=20):
    return "".join(rng.choice(PW) for _ in range(n))


def hexs(rng, n):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def b64(rng, nbytes):
    return base64.b64encode(bytes(rng.getrandbits(8) for _ in range(nbytes))).decode()


def b64url(rng, nbytes):
    return base64.urlsafe_b64encode(bytes(rng.getrandbits(8) for _ in range(nbytes))).decode().rstrip("=")


GEN = {
    "pw": password,
    "alnum": alnum,
    "hex32": lambda r: hexs(r, 32),
    "hex40": lambda r: hexs(r, 40),
    "hex64": lambda r: hexs(r, 64),
    "hex128": lambda r: hexs(r, 128),
    "b64_64": lambda r: b64(r, 64),
    "b64_30": lambda r: b64(r, 30),
    "b64url32": lambda r: b64url(r, 32),
    "uuid": lambda r: "-".join(hexs(r, n) for n in (8, 4, 4, 4, 12)),
    "aws_secret": lambda r: b64(r, 30),
    "fernet": lambda r: base64.urlsafe_b64encode(bytes(r.getrandbits(8) for _ in range(32))).decode(),
}

# (family, format, path, text, {marker: generator}); every marker's value must be found.
POSITIVES = [
    (".NET", "appsettings.json ConnectionStrings", "src/Orders.Api/appsettings.Production.json", """{
  "Logging": {
    "LogLevel": {
      "Default": "Information"
    }
  },
  "ConnectionStrings": {
    "OrdersDb": "Server=tcp:orders-sql.database.windows.net,1433;Initial Catalog=Orders;Persist Security Info=False;User ID=orders_app;Password={S1};MultipleActiveResultSets=False;Encrypt=True;",
    "Reporting": "Host=reports.internal;Port=5432;Database=reports;Username=reporter;Password={S2}"
  },
  "AllowedHosts": "*"
}
""", {"S1": "pw", "S2": "pw"}),
    (".NET", "web.config connectionString", "Web.config", """<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <connectionStrings>
    <add name="OrdersContext" connectionString="Data Source=sql01.corp.local;Initial Catalog=Orders;User ID=web_orders;Password={S1}" providerName="System.Data.SqlClient" />
    <add name="OrdersEntities" connectionString="metadata=res://*/Orders.csdl|res://*/Orders.ssdl|res://*/Orders.msl;provider=System.Data.SqlClient;provider connection string=&quot;data source=sql01.corp.local;initial catalog=Orders;user id=ef_orders;password={S2};MultipleActiveResultSets=True;App=EntityFramework&quot;" providerName="System.Data.EntityClient" />
  </connectionStrings>
</configuration>
""", {"S1": "pw", "S2": "pw"}),
    (".NET", "app.config appSettings password key", "src/Mailer/App.config", """<?xml version="1.0" encoding="utf-8" ?>
<configuration>
  <appSettings>
    <add key="SmtpHost" value="smtp.office365.com" />
    <add key="SmtpUser" value="noreply@acme-corp.net" />
    <add key="SmtpPassword" value="{S1}" />
    <add key="ApiSecret" value="{S2}" />
  </appSettings>
</configuration>
""", {"S1": "pw", "S2": "b64url32"}),
    (".NET", "nuget.config ClearTextPassword", "nuget.config", """<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="Contoso" value="https://nuget.contoso-corp.net/v3/index.json" />
  </packageSources>
  <packageSourceCredentials>
    <Contoso>
      <add key="Username" value="build@contoso-corp.net" />
      <add key="ClearTextPassword" value="{S1}" />
    </Contoso>
  </packageSourceCredentials>
</configuration>
""", {"S1": "pw"}),
    (".NET", "local.settings.json AccountKey", "FunctionApp/local.settings.json", """{
  "IsEncrypted": false,
  "Values": {
    "AzureWebJobsStorage": "DefaultEndpointsProtocol=https;AccountName=stordersfunc01;AccountKey={S1};EndpointSuffix=core.windows.net",
    "FUNCTIONS_WORKER_RUNTIME": "dotnet-isolated"
  }
}
""", {"S1": "b64_64"}),
    ("Java", "application.yml", "src/main/resources/application.yml", """server:
  port: 8080
spring:
  datasource:
    url: jdbc:postgresql://orders-db.internal:5432/orders
    username: orders
    password: {S1}
  mail:
    host: smtp.gmail.com
    port: 587
    username: noreply@acme-corp.net
    password: {S2}
jwt:
  secret: {S3}
  expiration: 86400
""", {"S1": "pw", "S2": "alnum", "S3": "b64url32"}),
    ("Java", "application.properties", "src/main/resources/application-prod.properties", """spring.datasource.url=jdbc:mysql://orders-db.internal:3306/orders
spring.datasource.username=orders
spring.datasource.password={S1}
spring.mail.host=smtp.sendgrid.net
spring.mail.username=apikey
spring.mail.password={S2}
jwt.secret={S3}
app.jwtSecret={S4}
""", {"S1": "pw", "S2": "alnum", "S3": "b64url32", "S4": "hex64"}),
    ("Java", "hibernate.cfg.xml", "src/main/resources/hibernate.cfg.xml", """<?xml version='1.0' encoding='utf-8'?>
<!DOCTYPE hibernate-configuration PUBLIC "-//Hibernate/Hibernate Configuration DTD 3.0//EN" "http://www.hibernate.org/dtd/hibernate-configuration-3.0.dtd">
<hibernate-configuration>
  <session-factory>
    <property name="connection.driver_class">org.postgresql.Driver</property>
    <property name="connection.url">jdbc:postgresql://orders-db.internal:5432/orders</property>
    <property name="connection.username">orders</property>
    <property name="connection.password">{S1}</property>
    <property name="hibernate.connection.password">{S2}</property>
  </session-factory>
</hibernate-configuration>
""", {"S1": "pw", "S2": "pw"}),
    ("Java", "Tomcat context.xml Resource", "src/main/webapp/META-INF/context.xml", """<Context>
  <Resource name="jdbc/OrdersDB" auth="Container" type="javax.sql.DataSource"
            maxTotal="100" maxIdle="30" maxWaitMillis="10000"
            username="orders" password="{S1}" driverClassName="com.mysql.cj.jdbc.Driver"
            url="jdbc:mysql://orders-db.internal:3306/orders"/>
</Context>
""", {"S1": "pw"}),
    ("Java", "Maven settings.xml", ".m2/settings.xml", """<settings>
  <servers>
    <server>
      <id>ossrh</id>
      <username>acme-release</username>
      <password>{S1}</password>
    </server>
  </servers>
</settings>
""", {"S1": "pw"}),
    ("Java", "gradle.properties signing/ossrh", "gradle.properties", """org.gradle.jvmargs=-Xmx2048m
signing.keyId=24875D73
signing.password={S1}
signing.secretKeyRingFile=/home/ci/.gnupg/secring.gpg
ossrhUsername=acme-release
ossrhPassword={S2}
mavenCentralPassword={S3}
""", {"S1": "pw", "S2": "pw", "S3": "alnum"}),
    ("Java", "Android keystore.properties", "keystore.properties", """storePassword={S1}
keyPassword={S2}
keyAlias=upload
storeFile=/home/ci/upload-keystore.jks
""", {"S1": "pw", "S2": "pw"}),
    ("Java", "build.gradle signingConfigs / credentials", "app/build.gradle", """android {
    signingConfigs {
        release {
            storeFile file("upload-keystore.jks")
            storePassword "{S1}"
            keyAlias "upload"
            keyPassword '{S2}'
        }
    }
}
repositories {
    maven {
        url "https://nexus.acme-corp.net/repository/maven-releases/"
        credentials {
            username "deployer"
            password "{S3}"
        }
    }
}
""", {"S1": "pw", "S2": "pw", "S3": "pw"}),
    ("Java", "JAAS kafka_client_jaas.conf", "config/kafka_client_jaas.conf", """KafkaClient {
  org.apache.kafka.common.security.plain.PlainLoginModule required
  username="orders-svc"
  password="{S1}";
};
""", {"S1": "pw"}),
    ("Python", "Django settings.py DATABASES", "orders/settings.py", """DATABASES = {
    'default': {
        'ENGINE': 'django.db.backends.postgresql',
        'NAME': 'orders',
        'USER': 'orders',
        'PASSWORD': '{S1}',
        'HOST': 'orders-db.internal',
        'PORT': '5432',
    }
}
EMAIL_HOST_PASSWORD = '{S2}'
""", {"S1": "pw", "S2": "alnum"}),
    ("Python", "SQLAlchemy URL", "app/db.py", """from sqlalchemy import create_engine

engine = create_engine("postgresql+psycopg2://orders:{S1}@orders-db.internal:5432/orders")
reports = create_engine('mysql+pymysql://reporter:{S2}@reports-db.internal/reports?charset=utf8mb4')
""", {"S1": "pw", "S2": "pw"}),
    ("Python", "Flask app.config", "app/__init__.py", """from flask import Flask

app = Flask(__name__)
app.config['SECRET_KEY'] = '{S1}'
app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql://orders:{S2}@orders-db.internal/orders"
app.secret_key = b'{S3}'
""", {"S1": "hex32", "S2": "pw", "S3": "b64url32"}),
    ("Python", "alembic.ini", "alembic.ini", """[alembic]
script_location = migrations
sqlalchemy.url = postgresql+psycopg2://alembic:{S1}@orders-db.internal/orders
""", {"S1": "pw"}),
    ("Python", ".pypirc", ".pypirc", """[distutils]
index-servers =
    pypi
    nexus

[nexus]
repository = https://nexus.acme-corp.net/repository/pypi-internal/
username = deployer
password = {S1}
""", {"S1": "pw"}),
    ("Python", "celery broker URL", "orders/celeryconfig.py", """broker_url = 'amqp://celery:{S1}@rabbit.internal:5672/orders'
result_backend = 'redis://:{S2}@redis.internal:6379/0'
""", {"S1": "pw", "S2": "alnum"}),
    ("Python", "Airflow airflow.cfg", "airflow/airflow.cfg", """[core]
fernet_key = {S1}
[database]
sql_alchemy_conn = postgresql+psycopg2://airflow:{S2}@airflow-db.internal/airflow
""", {"S1": "fernet", "S2": "pw"}),
    ("Ruby", "config/database.yml", "config/database.yml", """default: &default
  adapter: postgresql
  encoding: unicode
  pool: <%= ENV.fetch("RAILS_MAX_THREADS") { 5 } %>

production:
  <<: *default
  database: orders_production
  username: orders
  password: {S1}
""", {"S1": "pw"}),
    ("Ruby", "config/secrets.yml", "config/secrets.yml", """production:
  secret_key_base: {S1}
  stripe_webhook_secret: {S2}
""", {"S1": "hex128", "S2": "b64url32"}),
    ("Ruby", "config/master.key", "config/master.key", "{S1}\n", {"S1": "hex32"}),
    ("Ruby", "~/.gem/credentials", ".gem/credentials", """---
:rubygems_api_key: {S1}
""", {"S1": "hex32"}),
    ("JS/TS", "knexfile.js", "knexfile.js", """module.exports = {
  production: {
    client: 'postgresql',
    connection: {
      host: 'orders-db.internal',
      database: 'orders',
      user:     'orders',
      password: '{S1}'
    },
    pool: { min: 2, max: 10 }
  }
};
""", {"S1": "pw"}),
    ("JS/TS", "ormconfig.json", "ormconfig.json", """{
  "type": "mysql",
  "host": "orders-db.internal",
  "port": 3306,
  "username": "orders",
  "password": "{S1}",
  "database": "orders"
}
""", {"S1": "pw"}),
    ("JS/TS", "sequelize config.json", "config/config.json", """{
  "development": {
    "username": "root",
    "password": "{S1}",
    "database": "orders_development",
    "host": "127.0.0.1",
    "dialect": "mysql"
  }
}
""", {"S1": "pw"}),
    ("JS/TS", "nodemailer auth", "src/mailer.js", """const transporter = nodemailer.createTransport({
  host: "smtp.mailgun.org",
  port: 587,
  auth: {
    user: "postmaster@mg.acme-corp.net",
    pass: "{S1}",
  },
});
const other = nodemailer.createTransport({ service: 'gmail', auth: { user: 'ops@acme-corp.net', pass: '{S2}' } });
""", {"S1": "pw", "S2": "alnum"}),
    ("JS/TS", "next.config.js env", "next.config.js", """module.exports = {
  reactStrictMode: true,
  env: {
    API_SECRET: '{S1}',
    DB_PASSWORD: '{S2}',
  },
}
""", {"S1": "b64url32", "S2": "pw"}),
    ("JS/TS", "docker-compose list", "docker-compose.yml", """services:
  db:
    image: postgres:16
    environment:
      - POSTGRES_USER=orders
      - POSTGRES_PASSWORD={S1}
  rabbit:
    image: rabbitmq:3-management
    environment:
      - RABBITMQ_DEFAULT_USER=orders
      - RABBITMQ_DEFAULT_PASS={S2}
  grafana:
    image: grafana/grafana
    environment:
      - GF_SECURITY_ADMIN_PASSWORD={S3}
""", {"S1": "pw", "S2": "pw", "S3": "pw"}),
    ("JS/TS", "docker-compose map", "deploy/compose.yaml", """services:
  mysql:
    image: mysql:8
    environment:
      MYSQL_ROOT_PASSWORD: {S1}
      MYSQL_PASSWORD: "{S2}"
  minio:
    image: minio/minio
    environment:
      MINIO_ROOT_USER: admin
      MINIO_ROOT_PASSWORD: {S3}
  keycloak:
    image: quay.io/keycloak/keycloak
    environment:
      KEYCLOAK_ADMIN_PASSWORD: {S4}
""", {"S1": "pw", "S2": "pw", "S3": "pw", "S4": "pw"}),
    ("JS/TS", ".npmrc", ".npmrc", """registry=https://nexus.acme-corp.net/repository/npm-group/
//nexus.acme-corp.net/repository/npm-group/:_authToken={S1}
//npm.acme-corp.net/:_auth={S2}
//registry.acme-corp.net/:username=ci
//registry.acme-corp.net/:_password={S3}
""", {"S1": "uuid", "S2": "b64_30", "S3": "b64_30"}),
    ("PHP", "Laravel .env", ".env", """APP_NAME=Orders
APP_ENV=production
DB_CONNECTION=mysql
DB_HOST=orders-db.internal
DB_PASSWORD={S1}
MAIL_MAILER=smtp
MAIL_PASSWORD={S2}
REDIS_PASSWORD={S3}
PUSHER_APP_SECRET={S4}
""", {"S1": "pw", "S2": "alnum", "S3": "alnum", "S4": "hex40"}),
    ("PHP", "Laravel config/database.php env fallback", "config/database.php", """<?php
return [
    'connections' => [
        'mysql' => [
            'driver' => 'mysql',
            'host' => env('DB_HOST', 'orders-db.internal'),
            'username' => env('DB_USERNAME', 'orders'),
            'password' => env('DB_PASSWORD', '{S1}'),
        ],
    ],
];
""", {"S1": "pw"}),
    ("PHP", "Symfony DATABASE_URL", ".env.prod", """DATABASE_URL="postgresql://orders:{S1}@orders-db.internal:5432/orders?serverVersion=16&charset=utf8"
MAILER_DSN=smtp://mailer:{S2}@smtp.acme-corp.net:587
""", {"S1": "pw", "S2": "pw"}),
    ("PHP", "composer auth.json", "auth.json", """{
    "http-basic": {
        "repo.packagist.com": {
            "username": "token",
            "password": "{S1}"
        }
    },
    "github-oauth": {
        "github.com": "{S2}"
    },
    "gitlab-token": {
        "gitlab.acme-corp.net": "{S3}"
    }
}
""", {"S1": "hex40", "S2": "hex40", "S3": "alnum"}),
    ("PHP", "phpMyAdmin config.inc.php", "config.inc.php", """<?php
$cfg['blowfish_secret'] = '{S1}';
$i = 0;
$i++;
$cfg['Servers'][$i]['user'] = 'pma';
$cfg['Servers'][$i]['password'] = '{S2}';
""", {"S1": "b64url32", "S2": "pw"}),
    ("Ops", "Ansible inventory", "inventory/hosts.ini", """[web]
web1.acme-corp.net ansible_host=10.0.4.11 ansible_user=deploy ansible_password={S1}

[web:vars]
ansible_become_pass={S2}
""", {"S1": "pw", "S2": "pw"}),
    ("Ops", "Ansible group_vars", "group_vars/all.yml", """---
ansible_user: deploy
ansible_ssh_pass: {S1}
ansible_become_password: "{S2}"
""", {"S1": "pw", "S2": "pw"}),
    ("Ops", "Terraform .tf", "infra/main.tf", """resource "aws_db_instance" "orders" {
  identifier        = "orders"
  engine            = "postgres"
  username          = "orders"
  password          = "{S1}"
}

resource "aws_rds_cluster" "reports" {
  cluster_identifier = "reports"
  master_username    = "reports"
  master_password    = "{S2}"
}

resource "azurerm_linux_virtual_machine" "jump" {
  admin_username = "ops"
  admin_password = "{S3}"
}
""", {"S1": "pw", "S2": "pw", "S3": "pw"}),
    ("Ops", "Terraform .tfvars", "infra/prod.tfvars", """region      = "eu-west-1"
db_password = "{S1}"
""", {"S1": "pw"}),
    ("Ops", "Helm values.yaml", "charts/orders/values.yaml", """mysql:
  auth:
    rootPassword: {S1}
    username: orders
    password: "{S2}"
redis:
  auth:
    enabled: true
    password: {S3}
""", {"S1": "pw", "S2": "pw", "S3": "alnum"}),
    ("Ops", "Kubernetes Secret stringData", "k8s/orders-secret.yaml", """apiVersion: v1
kind: Secret
metadata:
  name: orders-db
type: Opaque
stringData:
  username: orders
  password: {S1}
  api-token: {S2}
""", {"S1": "pw", "S2": "b64url32"}),
    ("Ops", "s3cmd .s3cfg", ".s3cfg", """[default]
access_key = AKIA2OGYBAH6TQ3XKZ5N
host_base = s3.amazonaws.com
secret_key = {S1}
""", {"S1": "aws_secret"}),
    ("Ops", "rclone.conf", ".config/rclone/rclone.conf", """[backup]
type = sftp
host = files.acme-corp.net
user = backup
pass = {S1}

[wasabi]
type = s3
provider = Wasabi
access_key_id = 8VQ2M4ZK7TXR3NWB1HJD
secret_access_key = {S2}
""", {"S1": "b64url32", "S2": "alnum"}),
    ("Ops", "FileZilla sitemanager.xml", ".config/filezilla/sitemanager.xml", """<?xml version="1.0" encoding="UTF-8"?>
<FileZilla3 version="3.66.0" platform="windows">
  <Servers>
    <Server>
      <Host>ftp.acme-corp.net</Host>
      <Port>21</Port>
      <User>deploy</User>
      <Pass encoding="base64">{S1}</Pass>
    </Server>
  </Servers>
</FileZilla3>
""", {"S1": "b64_30"}),
    ("Ops", "WinSCP.ini", "WinSCP.ini", """[Sessions\\deploy@files.acme-corp.net]
HostName=files.acme-corp.net
UserName=deploy
Password={S1}
""", {"S1": "hex64"}),
    ("Ops", "VS Code sftp.json", ".vscode/sftp.json", """{
    "name": "Production",
    "host": "files.acme-corp.net",
    "protocol": "sftp",
    "port": 22,
    "username": "deploy",
    "password": "{S1}",
    "remotePath": "/var/www/orders",
    "uploadOnSave": true
}
""", {"S1": "pw"}),
    ("Ops", ".git-credentials", ".git-credentials", """https://deploy:{S1}@git.acme-corp.net
""", {"S1": "pw"}),
    ("Ops", ".pgpass", ".pgpass", """orders-db.internal:5432:orders:orders:{S1}
""", {"S1": "pw"}),
    ("Ops", ".my.cnf", ".my.cnf", """[client]
user=orders
password="{S1}"
host=orders-db.internal

[mysqldump]
password={S2}
""", {"S1": "pw", "S2": "pw"}),
    ("Ops", "wpa_supplicant.conf", "etc/wpa_supplicant/wpa_supplicant.conf", """ctrl_interface=DIR=/var/run/wpa_supplicant GROUP=netdev
network={
    ssid="AcmeOffice"
    psk="{S1}"
    key_mgmt=WPA-PSK
}
network={
    ssid="AcmeLab"
    psk={S2}
}
""", {"S1": "pw", "S2": "hex64"}),
    ("Ops", "Jenkins credentials.xml", "jenkins/credentials.xml", """<?xml version='1.1' encoding='UTF-8'?>
<com.cloudbees.plugins.credentials.SystemCredentialsProvider plugin="credentials@1309.v8835d63eb_d8a_">
  <domainCredentialsMap class="hudson.util.CopyOnWriteMap$Hash">
    <entry>
      <java.util.concurrent.CopyOnWriteArrayList>
        <com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl>
          <scope>GLOBAL</scope>
          <id>deploy</id>
          <username>deploy</username>
          <password>{{S1}}</password>
        </com.cloudbees.plugins.credentials.impl.UsernamePasswordCredentialsImpl>
        <org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl>
          <scope>GLOBAL</scope>
          <id>slack</id>
          <secret>{{S2}}</secret>
        </org.jenkinsci.plugins.plaincredentials.impl.StringCredentialsImpl>
      </java.util.concurrent.CopyOnWriteArrayList>
    </entry>
  </domainCredentialsMap>
</com.cloudbees.plugins.credentials.SystemCredentialsProvider>
""", {"S1": "jenkins", "S2": "jenkins"}),
    ("Ops", "Docker config.json auths", ".docker/config.json", """{
  "auths": {
    "registry.acme-corp.net": {
      "auth": "{S1}"
    }
  }
}
""", {"S1": "dockerauth"}),
    ("Ops", "msmtprc / mutt", ".msmtprc", """account default
host smtp.acme-corp.net
port 587
auth on
user ops@acme-corp.net
password {S1}
""", {"S1": "pw"}),
    ("Ops", "grafana.ini", "grafana/grafana.ini", """[security]
admin_user = admin
admin_password = {S1}
secret_key = {S2}
""", {"S1": "pw", "S2": "alnum"}),
]

GEN["jenkins"] = lambda r: "AQAAABAAAAAQ" + b64(r, 48)
GEN["dockerauth"] = lambda r: base64.b64encode(("ci-bot:" + password(r)).encode()).decode()

# (format, path, text): every line here must stay silent.
NEGATIVES = [
    ("appsettings.json", "src/Orders.Api/appsettings.json", """{
  "ConnectionStrings": {
    "OrdersDb": "Server=tcp:orders-sql.database.windows.net,1433;Initial Catalog=Orders;User ID=orders_app;Password=${DB_PASSWORD};Encrypt=True;",
    "Local": "Server=(localdb)\\\\mssqllocaldb;Database=Orders;Trusted_Connection=True;",
    "Dev": "Host=localhost;Database=orders;Username=orders;Password=your-password"
  }
}
"""),
    ("web.config", "Web.Debug.config", """<configuration>
  <connectionStrings>
    <add name="OrdersContext" connectionString="Data Source=sql01;Initial Catalog=Orders;User ID=web;Password=&lt;password&gt;" />
    <add name="Orders2" connectionString="Data Source=sql01;Initial Catalog=Orders;Integrated Security=True" />
  </connectionStrings>
  <appSettings>
    <add key="SmtpPassword" value="" />
    <add key="ApiSecret" value="#{ApiSecret}#" />
    <add key="ClearTextPassword" value="%NUGET_PASSWORD%" />
  </appSettings>
</configuration>
"""),
    ("application.yml", "src/main/resources/application-dev.yml", """spring:
  datasource:
    password: ${DB_PASSWORD}
  mail:
    password: ${MAIL_PASSWORD:}
jwt:
  secret: ${JWT_SECRET}
"""),
    ("application.properties", "src/main/resources/application.properties", """spring.datasource.password=${DB_PASSWORD}
spring.mail.password=
jwt.secret=#{environment.JWT_SECRET}
"""),
    ("settings.xml", "settings-ci.xml", """<settings><servers><server><id>ossrh</id>
  <username>${env.OSSRH_USER}</username>
  <password>${env.OSSRH_PASSWORD}</password>
</server></servers></settings>
"""),
    ("gradle.properties", "template/gradle.properties", """signing.password=
ossrhPassword=<your-password>
storePassword=changeme
"""),
    ("build.gradle", "lib/build.gradle", """credentials {
    username System.getenv("NEXUS_USER")
    password System.getenv("NEXUS_PASSWORD")
}
storePassword keystoreProperties['storePassword']
keyPassword project.findProperty("keyPassword")
"""),
    ("settings.py", "orders/settings_dev.py", """DATABASES = {'default': {'PASSWORD': os.environ['DB_PASSWORD'], 'USER': 'orders'}}
app.config['SECRET_KEY'] = os.environ.get('SECRET_KEY')
"""),
    ("database.yml", "config/database.example.yml", """production:
  adapter: postgresql
  password: <%= ENV['ORDERS_DATABASE_PASSWORD'] %>
development:
  password:
"""),
    ("docker-compose", "docker-compose.override.yml", """services:
  db:
    environment:
      - POSTGRES_PASSWORD=${POSTGRES_PASSWORD}
      - MYSQL_ROOT_PASSWORD=changeme
    environment2:
      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-}
      MINIO_ROOT_PASSWORD: "{{ minio_password }}"
"""),
    ("nodemailer", "src/mailer.dev.js", """const t = nodemailer.createTransport({ auth: { user: process.env.SMTP_USER, pass: process.env.SMTP_PASS } });
const u = nodemailer.createTransport({ auth: { user: user, pass: pass } });
"""),
    ("database.php", "config/queue.php", """<?php
return ['password' => env('DB_PASSWORD'), 'redis' => env('REDIS_PASSWORD', null), 'x' => env('X_PASSWORD', '')];
"""),
    ("auth.json", "auth.example.json", """{"http-basic": {"repo.packagist.com": {"username": "token", "password": "<token>"}},
 "github-oauth": {"github.com": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}
"""),
    ("ansible", "group_vars/prod.yml", """ansible_become_pass: "{{ vault_become_pass }}"
ansible_password: !vault |
          $ANSIBLE_VAULT;1.1;AES256
          62313365396662343061393464336163383764373764613633653634306231386433626436623361
"""),
    ("terraform", "infra/rds.tf", """resource "aws_db_instance" "orders" {
  password = var.db_password
  master_password = random_password.master.result
}
"""),
    ("helm", "charts/orders/templates/secret.yaml", """stringData:
  password: {{ .Values.auth.password | quote }}
  rootPassword: {{ required "x" .Values.auth.rootPassword }}
"""),
    ("misc", "etc/misc.conf", """psk="your-wifi-password"
password=xxxxxxxx
secret_key = <secret-key>
"""),
]


def run(bin_path, seed, show_misses, keep):
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = keep or tmp
        pos_dir, neg_dir = os.path.join(tmp, "pos"), os.path.join(tmp, "neg")
        expected = []
        for i, (family, name, path, text, gens) in enumerate(POSITIVES):
            values = {k: GEN[g](rng) for k, g in gens.items()}
            body = text
            for k, v in values.items():
                body = body.replace("{" + k + "}", v)
            rel = os.path.join(f"case{i:02}", path)
            write(pos_dir, rel, body)
            for k, v in values.items():
                line = next(n for n, l in enumerate(body.splitlines(), 1) if v in l)
                expected.append((family, name, rel, line, v))
        for i, (name, path, text) in enumerate(NEGATIVES):
            write(neg_dir, os.path.join(f"neg{i:02}", path), text)
        found = scan(bin_path, pos_dir)
        alarms = scan(bin_path, neg_dir)
    by_case = {}
    for family, name, rel, line, v in expected:
        hit = [f for f in found if f["path"].endswith(rel) and f["line"] == line and v in f["secret"]]
        by_case.setdefault((family, name), []).append((rel, line, hit))
    total_ok = 0
    for (family, name), items in by_case.items():
        ok = all(h for _, _, h in items)
        total_ok += ok
        rules = sorted({f["rule_id"] for _, _, h in items for f in h})
        missing = [f"{os.path.basename(r)}:{l}" for r, l, h in items if not h]
        mark = "ok  " if ok else "MISS"
        if show_misses or not ok:
            print(f"{mark} {family:7} {name:45} {','.join(rules)} {' '.join(missing)}")
    print(f"formats: {total_ok}/{len(by_case)} fully found; "
          f"secrets: {sum(1 for it in by_case.values() for _, _, h in it if h)}/{len(expected)}")
    for f in alarms:
        print(f"ALARM {f['path']}:{f['line']} {f['rule_id']} {f['secret']!r}")
    print(f"negatives: {len(alarms)} alarms in {len(NEGATIVES)} files")


def write(root, rel, body):
    p = os.path.join(root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "w") as fh:
        fh.write(body)


def scan(bin_path, folder):
    out = subprocess.run([bin_path, "scan", folder, "--format", "json", "--no-ignore", "--show-secrets"],
                         capture_output=True, text=True)
    if out.returncode not in (0, 1):
        sys.exit(f"config-battery: scan failed: {out.stderr}")
    return json.loads(out.stdout)["findings"]


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--misses", action="store_true", help="list found formats too")
    ap.add_argument("--pw-len", type=int, default=PW_LEN, help="length of typed passwords")
    ap.add_argument("--keep", metavar="DIR", help="write the files to DIR (new) and keep them")
    a = ap.parse_args()
    PW_LEN = a.pw_len
    run(a.bin, a.seed, a.misses, a.keep)
