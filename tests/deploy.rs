//! The Docker files (`Dockerfile`, `.dockerignore`, `docker-compose.yml`) checked against
//! `config/default.toml` and the contract (API.md sections 5 and 10), without a Docker engine:
//! both files are parsed, every `INTEGRATIONS__…` key must exist in `config/default.toml`,
//! images must be pinned, ports, volumes, users and health checks must agree, and the image's
//! own environment is loaded by the real settings code and started as the real application
//! (its `/data` volume replaced by a temporary folder).
//!
//! Each check returns the problems it finds; `the_checks_catch_*` run them on the broken files
//! that were reported and on mutations of the current ones, so none of them passes vacuously.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;
use yaml_rust2::{Yaml, YamlLoader};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(name: &str) -> String {
    std::fs::read_to_string(root().join(name))
        .unwrap_or_else(|e| panic!("{name} must exist at the repository root: {e}"))
}

fn default_toml() -> toml::Table {
    read("config/default.toml")
        .parse::<toml::Table>()
        .expect("config/default.toml is TOML")
}

/// `workspace.package.rust-version` of the root Cargo.toml.
fn rust_version() -> String {
    let manifest = read("Cargo.toml").parse::<toml::Table>().unwrap();
    manifest["workspace"]["package"]["rust-version"]
        .as_str()
        .expect("workspace.package.rust-version")
        .to_owned()
}

// ---------------------------------------------------------------------------------------------
// Configuration keys
// ---------------------------------------------------------------------------------------------

/// Every `INTEGRATIONS__…` name in `text` (comments included: a documented key must exist too).
fn env_keys(text: &str) -> BTreeSet<String> {
    const PREFIX: &str = "INTEGRATIONS__";
    let mut keys = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find(PREFIX) {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        keys.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    keys
}

/// `INTEGRATIONS__A__B[__C]` → the problem when `a.b[.c]` is not a setting (a value, not a
/// table) of `config/default.toml`.
fn env_key_problem(key: &str, defaults: &toml::Table) -> Option<String> {
    let Some(path) = key.strip_prefix("INTEGRATIONS__") else {
        return Some(format!("{key} does not start with INTEGRATIONS__"));
    };
    let segments: Vec<String> = path.split("__").map(str::to_ascii_lowercase).collect();
    let dotted = segments.join(".");
    if segments.len() < 2 || segments.iter().any(String::is_empty) {
        return Some(format!("{key}: not of the form INTEGRATIONS__SECTION__KEY"));
    }
    let mut table = defaults;
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match table.get(segment) {
            None => {
                return Some(format!(
                    "{key}: config/default.toml has no setting {dotted}"
                ))
            }
            Some(toml::Value::Table(t)) if !last => table = t,
            Some(toml::Value::Table(_)) => {
                return Some(format!("{key}: {dotted} is a table, not a setting"))
            }
            Some(_) if last => return None,
            Some(_) => {
                return Some(format!(
                    "{key}: config/default.toml has no setting {dotted}"
                ))
            }
        }
    }
    None
}

fn env_key_problems(file: &str, text: &str, defaults: &toml::Table) -> Vec<String> {
    env_keys(text)
        .iter()
        .filter_map(|k| env_key_problem(k, defaults))
        .map(|p| format!("{file}: {p}"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Images
// ---------------------------------------------------------------------------------------------

/// Why `image` is not pinned: no tag, `latest`, or (with `want_version`) a tag without a
/// `MAJOR.MINOR` version. A `@sha256:` digest always pins.
fn image_pin_problem(image: &str, want_version: bool) -> Option<String> {
    if let Some((_, digest)) = image.split_once("@sha256:") {
        return (digest.len() != 64 || !digest.chars().all(|c| c.is_ascii_hexdigit()))
            .then(|| format!("image {image}: malformed sha256 digest"));
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    let Some((_, tag)) = last.split_once(':') else {
        return Some(format!(
            "image {image} is not pinned: no tag (means latest)"
        ));
    };
    if tag.is_empty() || tag == "latest" {
        return Some(format!("image {image} is not pinned: tag {tag:?}"));
    }
    if want_version && !has_minor_version(tag) {
        return Some(format!(
            "image {image}: tag {tag} names no MAJOR.MINOR version"
        ));
    }
    None
}

fn has_minor_version(tag: &str) -> bool {
    let b = tag.as_bytes();
    (1..b.len().saturating_sub(1))
        .any(|i| b[i] == b'.' && b[i - 1].is_ascii_digit() && b[i + 1].is_ascii_digit())
}

// ---------------------------------------------------------------------------------------------
// Dockerfile
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct Instruction {
    keyword: String,
    args: String,
    /// Index of the `FROM` stage it belongs to.
    stage: usize,
}

#[derive(Debug)]
struct Stage {
    image: String,
    name: Option<String>,
}

#[derive(Debug)]
struct Dockerfile {
    stages: Vec<Stage>,
    instructions: Vec<Instruction>,
}

impl Dockerfile {
    /// Comments and blank lines dropped, `\` continuations joined.
    fn parse(text: &str) -> Dockerfile {
        let mut logical: Vec<String> = Vec::new();
        let mut current = String::new();
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
                continue;
            }
            let (body, continued) = match trimmed.strip_suffix('\\') {
                Some(b) => (b.trim_end(), true),
                None => (trimmed, false),
            };
            if !current.is_empty() && !body.is_empty() {
                current.push(' ');
            }
            current.push_str(body);
            if !continued {
                logical.push(std::mem::take(&mut current));
            }
        }
        if !current.is_empty() {
            logical.push(current);
        }
        let mut stages = Vec::new();
        let mut instructions = Vec::new();
        for line in logical {
            let (keyword, args) = line.split_once(char::is_whitespace).unwrap_or((&line, ""));
            let keyword = keyword.to_ascii_uppercase();
            let args = args.trim().to_owned();
            if keyword == "FROM" {
                let words: Vec<&str> = args
                    .split_whitespace()
                    .filter(|w| !w.starts_with("--"))
                    .collect();
                stages.push(Stage {
                    image: words.first().map(|w| w.to_string()).unwrap_or_default(),
                    name: match words.as_slice() {
                        [_, as_, name] if as_.eq_ignore_ascii_case("as") => Some(name.to_string()),
                        _ => None,
                    },
                });
            }
            instructions.push(Instruction {
                keyword,
                args,
                stage: stages.len().saturating_sub(1),
            });
        }
        Dockerfile {
            stages,
            instructions,
        }
    }

    fn final_stage(&self) -> impl Iterator<Item = &Instruction> {
        let last = self.stages.len().saturating_sub(1);
        self.instructions
            .iter()
            .filter(move |i| i.stage == last && i.keyword != "FROM")
    }

    fn final_args(&self, keyword: &str) -> Vec<&str> {
        self.final_stage()
            .filter(|i| i.keyword == keyword)
            .map(|i| i.args.as_str())
            .collect()
    }

    /// The `ENV` of the final stage, in order (later wins).
    fn env(&self) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        for args in self.final_args("ENV") {
            let words = shell_words(args);
            if words.len() == 2 && !words[0].contains('=') {
                // Legacy `ENV KEY value`.
                env.insert(words[0].clone(), words[1].clone());
                continue;
            }
            for word in words {
                if let Some((k, v)) = word.split_once('=') {
                    env.insert(k.to_owned(), v.to_owned());
                }
            }
        }
        env
    }

    /// Arguments of a JSON-array or whitespace form (`VOLUME ["/data"]`, `EXPOSE 8080`).
    fn list(args: &str) -> Vec<String> {
        match serde_json::from_str::<Vec<String>>(args) {
            Ok(v) => v,
            Err(_) => shell_words(args),
        }
    }
}

/// Splits on whitespace outside double or single quotes; quotes are removed.
fn shell_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some('"') | None, '\\') => {
                if let Some(next) = chars.next() {
                    word.push(next);
                }
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (_, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// `host:port` → port (`[::]:8080` too).
fn bind_port(bind: &str) -> Option<u16> {
    bind.rsplit_once(':').and_then(|(_, p)| p.parse().ok())
}

fn bind_host(bind: &str) -> &str {
    bind.rsplit_once(':').map_or(bind, |(h, _)| h)
}

/// The file a `sqlite://…` URL names (`sqlite:///abs` is absolute), as the store reads it.
fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite:")?;
    Some(rest.strip_prefix("//").unwrap_or(rest))
}

/// `path` lies strictly inside one of `dirs`.
fn inside(path: &str, dirs: &[String]) -> bool {
    let path = Path::new(path);
    path.is_absolute()
        && dirs
            .iter()
            .any(|d| path.starts_with(d) && path != Path::new(d))
}

const BIND: &str = "INTEGRATIONS__SERVER__BIND";
const DATABASE_URL: &str = "INTEGRATIONS__DATABASE__URL";
const KEY_FILE: &str = "INTEGRATIONS__VAULT__MASTER_KEY_FILE";

fn check_dockerfile(text: &str, dockerignore: &str, rust_version: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let df = Dockerfile::parse(text);
    let stage_names: BTreeSet<&str> = df.stages.iter().filter_map(|s| s.name.as_deref()).collect();

    // Stages and base images.
    if df.stages.len() < 2 {
        problems.push(format!(
            "Dockerfile: {} FROM stage(s); a build stage and a runtime stage are expected",
            df.stages.len()
        ));
    }
    for stage in &df.stages {
        if !stage_names.contains(stage.image.as_str()) {
            problems.extend(
                image_pin_problem(&stage.image, false).map(|p| format!("Dockerfile: FROM {p}")),
            );
        }
    }
    match df.stages.first() {
        Some(s) if s.image.starts_with(&format!("rust:{rust_version}")) => {}
        Some(s) => problems.push(format!(
            "Dockerfile: the build stage uses {} but the workspace's rust-version is {rust_version}",
            s.image
        )),
        None => {}
    }
    if df
        .stages
        .last()
        .is_some_and(|s| s.image.starts_with("rust:"))
    {
        problems.push("Dockerfile: the runtime stage is the Rust toolchain image".into());
    }

    // The environment the image starts with.
    let env = df.env();
    let port = match env.get(BIND) {
        None => {
            problems.push(format!(
                "Dockerfile: no ENV {BIND}: the default 127.0.0.1:8080 is unreachable from outside the container"
            ));
            None
        }
        Some(bind) => {
            if !matches!(bind_host(bind), "0.0.0.0" | "[::]") {
                problems.push(format!(
                    "Dockerfile: {BIND}={bind} does not listen on every interface of the container"
                ));
            }
            let port = bind_port(bind);
            if port.is_none() {
                problems.push(format!("Dockerfile: {BIND}={bind} has no port"));
            }
            port
        }
    };

    // The volume and where the state goes.
    let volumes: Vec<String> = df
        .final_args("VOLUME")
        .iter()
        .flat_map(|a| Dockerfile::list(a))
        .map(|v| v.trim_end_matches('/').to_owned())
        .collect();
    if !volumes.iter().any(|v| v == "/data") {
        problems.push(format!("Dockerfile: no VOLUME /data (found {volumes:?})"));
    }
    match env.get(DATABASE_URL).map(String::as_str) {
        None => problems.push(format!(
            "Dockerfile: no ENV {DATABASE_URL}: the default sqlite://data/… is relative to the working directory, outside the volume"
        )),
        Some(url) => match sqlite_path(url) {
            Some(path) if inside(path, &volumes) => {}
            Some(path) => problems.push(format!(
                "Dockerfile: {DATABASE_URL}={url}: {path} is not inside a VOLUME {volumes:?}"
            )),
            None => problems.push(format!(
                "Dockerfile: {DATABASE_URL}={url}: the image's default database must be SQLite, so it starts without a server"
            )),
        },
    }
    match env.get(KEY_FILE) {
        None => problems.push(format!(
            "Dockerfile: no ENV {KEY_FILE}: the default data/master.key is outside the volume"
        )),
        Some(path) if inside(path, &volumes) => {}
        Some(path) => problems.push(format!(
            "Dockerfile: {KEY_FILE}={path} is not inside a VOLUME {volumes:?}"
        )),
    }

    // The user.
    let user = df.final_args("USER").last().map(|u| u.trim().to_owned());
    match user.as_deref() {
        None => problems.push("Dockerfile: no USER: the image runs as root".into()),
        Some(u) => {
            let uid = u.split(':').next().unwrap_or(u);
            if uid == "root" || uid == "0" {
                problems.push(format!("Dockerfile: USER {u} is root"));
            } else if uid.parse::<u32>().is_err() {
                problems.push(format!(
                    "Dockerfile: USER {u}: a numeric uid lets Kubernetes' runAsNonRoot verify it"
                ));
            } else {
                let owns_data = df.final_args("RUN").iter().any(|r| {
                    r.contains("/data")
                        && (r.contains(&format!("-o {uid}")) || r.contains(&format!("chown {uid}")))
                });
                if !owns_data {
                    problems.push(format!(
                        "Dockerfile: no RUN gives /data to uid {uid}: the user cannot write its volume"
                    ));
                }
            }
        }
    }

    // Ports and health.
    let exposed: Vec<u16> = df
        .final_args("EXPOSE")
        .iter()
        .flat_map(|a| Dockerfile::list(a))
        .filter_map(|p| p.split('/').next().and_then(|p| p.parse().ok()))
        .collect();
    if let Some(port) = port {
        if !exposed.contains(&port) {
            problems.push(format!(
                "Dockerfile: EXPOSE {exposed:?} does not include the bind port {port}"
            ));
        }
    }
    match df.final_args("HEALTHCHECK").last() {
        None => problems.push("Dockerfile: no HEALTHCHECK".into()),
        Some(h) if h.trim().eq_ignore_ascii_case("NONE") => {
            problems.push("Dockerfile: HEALTHCHECK NONE".into())
        }
        Some(h) => {
            if !h.contains("/readyz") {
                problems.push(format!(
                    "Dockerfile: HEALTHCHECK does not call /readyz: {h}"
                ));
            }
            let port_ok =
                h.contains(BIND) || port.is_some_and(|p| h.contains(&format!(":{p}/readyz")));
            if !port_ok {
                problems.push(format!(
                    "Dockerfile: HEALTHCHECK calls another port than the bind port {port:?}: {h}"
                ));
            }
            if h.contains("curl") && !installs(&df, "curl") {
                problems.push("Dockerfile: HEALTHCHECK uses curl, which is not installed".into());
            }
        }
    }

    // What the runtime image holds and runs.
    for copy in df.final_args("COPY") {
        let words = shell_words(copy);
        let from_stage = words.iter().any(|w| w.starts_with("--from="));
        let sources: Vec<&String> = words
            .iter()
            .filter(|w| !w.starts_with("--"))
            .collect::<Vec<_>>()
            .split_last()
            .map(|(_, s)| s.to_vec())
            .unwrap_or_default();
        if !from_stage && sources.iter().any(|s| s.as_str() != "config/default.toml") {
            problems.push(format!(
                "Dockerfile: the runtime stage copies {sources:?} from the build context (only the binary and config/default.toml belong there)"
            ));
        }
    }
    if !df
        .final_args("COPY")
        .iter()
        .any(|c| c.contains("--from=") && c.contains("integrations"))
    {
        problems.push("Dockerfile: the runtime stage does not copy the built binary".into());
    }
    let mut command: Vec<String> = Vec::new();
    for kw in ["ENTRYPOINT", "CMD"] {
        if let Some(a) = df.final_args(kw).last() {
            command.extend(Dockerfile::list(a));
        }
    }
    if command.first().map(String::as_str) != Some("integrations")
        || command.get(1).map(String::as_str) != Some("serve")
    {
        problems.push(format!(
            "Dockerfile: the image runs {command:?}, not `integrations serve`"
        ));
    }
    for run in df.final_args("RUN") {
        if let Some(at) = run.find("apt-get install") {
            let rest = &run[at..];
            let rest = &rest[..rest.find("&&").unwrap_or(rest.len())];
            if !rest.contains("--no-install-recommends") {
                problems.push("Dockerfile: apt-get install without --no-install-recommends".into());
            }
            for pkg in shell_words(rest)
                .iter()
                .skip(2)
                .filter(|w| !w.starts_with('-'))
            {
                if !pkg.contains('=') {
                    problems.push(format!(
                        "Dockerfile: apt package {pkg} is not pinned to a version"
                    ));
                }
            }
        }
    }

    // The build context.
    let ignored: BTreeSet<&str> = dockerignore
        .lines()
        .map(|l| l.trim().trim_start_matches('/').trim_end_matches('/'))
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    for (wanted, alternatives) in [
        ("target", &["target"][..]),
        (".git", &[".git"]),
        (".tools", &[".tools"]),
        ("data", &["data"]),
        ("fuzz/target", &["fuzz", "fuzz/target"]),
    ] {
        if !alternatives.iter().any(|a| ignored.contains(a)) {
            problems.push(format!(".dockerignore does not exclude {wanted}"));
        }
    }
    problems
}

/// Some `apt-get install` of the final stage names `package` (pinned or not).
fn installs(df: &Dockerfile, package: &str) -> bool {
    df.final_args("RUN").iter().any(|r| {
        r.find("apt-get install").is_some_and(|at| {
            shell_words(&r[at..])
                .iter()
                .any(|w| w == package || w.starts_with(&format!("{package}=")))
        })
    })
}

// ---------------------------------------------------------------------------------------------
// docker-compose.yml
// ---------------------------------------------------------------------------------------------

fn load_yaml(text: &str) -> Yaml {
    let mut docs = YamlLoader::load_from_str(text).expect("docker-compose.yml is YAML");
    assert_eq!(docs.len(), 1, "docker-compose.yml holds one document");
    docs.remove(0)
}

fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn has(y: &Yaml, key: &str) -> bool {
    !y[key].is_badvalue() && !y[key].is_null()
}

/// Compose's interpolation with no variable set (the file must work without a `.env`):
/// `${NAME:-default}` and `${NAME-default}` give the default, `$$` a `$`; anything needing a
/// variable (`${NAME}`, `$NAME`, `${NAME:?…}`) is an error.
fn interpolate(s: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 1..];
        if let Some(t) = tail.strip_prefix('$') {
            out.push('$');
            rest = t;
        } else if let Some(t) = tail.strip_prefix('{') {
            let end = t
                .find('}')
                .ok_or_else(|| format!("unclosed ${{ in {s:?}"))?;
            let expr = &t[..end];
            let name_end = expr
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(expr.len());
            let op = &expr[name_end..];
            let default = op
                .strip_prefix(":-")
                .or_else(|| op.strip_prefix('-'))
                .ok_or_else(|| {
                    format!("{s:?} needs ${{{expr}}} set: give it a default (${{NAME:-value}})")
                })?;
            out.push_str(default);
            rest = &t[end + 1..];
        } else {
            return Err(format!("{s:?} uses a bare $: needs a variable set"));
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// A service's `environment` (map or list form), interpolated.
fn service_env(service: &Yaml) -> Result<BTreeMap<String, String>, String> {
    let mut env = BTreeMap::new();
    match &service["environment"] {
        Yaml::Hash(h) => {
            for (k, v) in h {
                let k = scalar(k).ok_or("environment key is not a string")?;
                let v = scalar(v).unwrap_or_default();
                env.insert(k, interpolate(&v)?);
            }
        }
        Yaml::Array(a) => {
            for item in a {
                let item = scalar(item).ok_or("environment item is not a string")?;
                let (k, v) = item.split_once('=').unwrap_or((&item, ""));
                env.insert(k.to_owned(), interpolate(v)?);
            }
        }
        _ => {}
    }
    Ok(env)
}

/// `(source, target)` of a service's volumes (short or long form).
fn service_volumes(service: &Yaml) -> Vec<(String, String)> {
    service["volumes"]
        .as_vec()
        .map(|v| {
            v.iter()
                .filter_map(|m| match m {
                    Yaml::Hash(_) => Some((scalar(&m["source"])?, scalar(&m["target"])?)),
                    other => {
                        let s = scalar(other)?;
                        let mut parts = s.splitn(3, ':');
                        Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

fn is_named_volume(source: &str) -> bool {
    !(source.starts_with('/') || source.starts_with('.') || source.starts_with('~'))
}

/// Container ports a service publishes (`[ip:]host:container[/proto]` or long form).
fn container_ports(service: &Yaml) -> Vec<u16> {
    service["ports"]
        .as_vec()
        .map(|v| {
            v.iter()
                .filter_map(|p| match p {
                    Yaml::Hash(_) => scalar(&p["target"])?.parse().ok(),
                    other => {
                        let s = scalar(other)?;
                        let s = s.split('/').next()?;
                        s.rsplit(':').next()?.parse().ok()
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The health check command as one string, or why there is none.
fn healthcheck(service: &Yaml) -> Result<String, String> {
    let hc = &service["healthcheck"];
    if !has(hc, "test") {
        return Err("has no healthcheck".into());
    }
    if hc["disable"].as_bool() == Some(true) {
        return Err("disables its healthcheck".into());
    }
    let test = match &hc["test"] {
        Yaml::Array(a) => a.iter().filter_map(scalar).collect::<Vec<_>>().join(" "),
        other => scalar(other).unwrap_or_default(),
    };
    if test.trim().is_empty() || test.starts_with("NONE") {
        return Err(format!("has an empty healthcheck ({test:?})"));
    }
    Ok(test)
}

/// `scheme://[user[:password]@]host[:port][/path]` → (user, password, host, port, path).
fn url_parts(url: &str) -> Option<(String, String, String, Option<u16>, String)> {
    let rest = url.split_once("://")?.1;
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (u, h),
        None => ("", authority),
    };
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (h, Some(p.parse().ok()?)),
        None => (hostport, None),
    };
    Some((
        user.to_owned(),
        password.to_owned(),
        host.to_owned(),
        port,
        path.to_owned(),
    ))
}

const SERVICES: [&str; 3] = ["api", "db", "s3"];

/// The api service's environment as the container sees it: the image's ENV, then compose's.
fn api_effective_env(compose: &Yaml, df: &Dockerfile) -> Result<BTreeMap<String, String>, String> {
    let mut env = df.env();
    env.extend(service_env(&compose["services"]["api"])?);
    Ok(env)
}

fn check_compose(text: &str, dockerfile: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let compose = load_yaml(text);
    let df = Dockerfile::parse(dockerfile);
    let Some(services) = compose["services"].as_hash() else {
        return vec!["docker-compose.yml: no services".into()];
    };
    let names: BTreeSet<String> = services.keys().filter_map(scalar).collect();
    let expected: BTreeSet<String> = SERVICES.iter().map(|s| s.to_string()).collect();
    if names != expected {
        problems.push(format!(
            "docker-compose.yml: services {names:?}, expected {expected:?}"
        ));
    }
    let declared_volumes: BTreeSet<String> = compose["volumes"]
        .as_hash()
        .map(|h| h.keys().filter_map(scalar).collect())
        .unwrap_or_default();

    for (name, service) in services {
        let name = scalar(name).unwrap_or_default();
        let at = format!("docker-compose.yml: service {name}");
        // Image or build.
        match (scalar(&service["image"]), has(service, "build")) {
            (Some(image), _) => {
                problems.extend(image_pin_problem(&image, true).map(|p| format!("{at}: {p}")))
            }
            (None, true) => {}
            (None, false) => problems.push(format!("{at} has neither image nor build")),
        }
        if let Err(p) = healthcheck(service) {
            problems.push(format!("{at} {p}"));
        }
        // Named volumes, each declared at the top level.
        let volumes = service_volumes(service);
        if !volumes.iter().any(|(s, _)| is_named_volume(s)) {
            problems.push(format!("{at} keeps its data in no named volume"));
        }
        for (source, _) in volumes.iter().filter(|(s, _)| is_named_volume(s)) {
            if !declared_volumes.contains(source) {
                problems.push(format!(
                    "{at}: volume {source} is not declared under volumes:"
                ));
            }
        }
        if let Err(p) = service_env(service) {
            problems.push(format!("{at}: {p}"));
        }
    }

    // The api: waits for the others, its ports, its state, its dependencies' addresses.
    let api = &compose["services"]["api"];
    if !has(api, "build") {
        problems
            .push("docker-compose.yml: api is not built from this repository (build: .)".into());
    }
    for other in SERVICES.iter().filter(|s| **s != "api") {
        let condition = scalar(&api["depends_on"][*other]["condition"]);
        if condition.as_deref() != Some("service_healthy") {
            problems.push(format!(
                "docker-compose.yml: api does not wait for {other} to be healthy (depends_on condition: {condition:?})"
            ));
        }
    }
    let env = match api_effective_env(&compose, &df) {
        Ok(env) => env,
        Err(p) => {
            problems.push(format!("docker-compose.yml: api: {p}"));
            return problems;
        }
    };
    match env.get(BIND).and_then(|b| bind_port(b)) {
        None => problems.push(format!(
            "docker-compose.yml: api: no {BIND} with a port (image or compose)"
        )),
        Some(port) => {
            let published = container_ports(api);
            if !published.contains(&port) {
                problems.push(format!(
                    "docker-compose.yml: api publishes container port(s) {published:?}, but it listens on {port}"
                ));
            }
            match healthcheck(api) {
                Ok(test) if !test.contains(&format!(":{port}/readyz")) => problems.push(format!(
                    "docker-compose.yml: api healthcheck does not call /readyz on port {port}: {test}"
                )),
                _ => {}
            }
        }
    }
    let api_volume_targets: Vec<String> = service_volumes(api)
        .into_iter()
        .filter(|(s, _)| is_named_volume(s))
        .map(|(_, t)| t.trim_end_matches('/').to_owned())
        .collect();
    match env.get(KEY_FILE) {
        Some(path) if inside(path, &api_volume_targets) => {}
        other => problems.push(format!(
            "docker-compose.yml: api's key file {other:?} is not inside a named volume {api_volume_targets:?}: a recreated container would lose it"
        )),
    }
    let db = &compose["services"]["db"];
    match env.get(DATABASE_URL) {
        None => problems.push(format!("docker-compose.yml: api: no {DATABASE_URL}")),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let db_env = service_env(db).unwrap_or_default();
            match url_parts(url) {
                None => problems.push(format!(
                    "docker-compose.yml: api: {DATABASE_URL} unreadable"
                )),
                Some((user, password, host, port, path)) => {
                    let database = path
                        .trim_start_matches('/')
                        .split('?')
                        .next()
                        .unwrap_or("")
                        .to_owned();
                    if host != "db" || port.is_some_and(|p| p != 5432) {
                        problems.push(format!(
                            "docker-compose.yml: api's database is {host}:{port:?}, not the db service on 5432"
                        ));
                    }
                    for (what, in_url, var) in [
                        ("user", &user, "POSTGRES_USER"),
                        ("password", &password, "POSTGRES_PASSWORD"),
                        ("database", &database, "POSTGRES_DB"),
                    ] {
                        if db_env.get(var) != Some(in_url) {
                            problems.push(format!(
                                "docker-compose.yml: the {what} in api's {DATABASE_URL} differs from db's {var}"
                            ));
                        }
                    }
                }
            }
            if !scalar(&db["image"]).is_some_and(|i| i.starts_with("postgres:")) {
                problems.push("docker-compose.yml: db is not a postgres image".into());
            }
            if !service_volumes(db)
                .iter()
                .any(|(s, t)| is_named_volume(s) && t == "/var/lib/postgresql/data")
            {
                problems.push(
                    "docker-compose.yml: db's /var/lib/postgresql/data is not a named volume"
                        .into(),
                );
            }
        }
        Some(url) => problems.push(format!(
            "docker-compose.yml: api uses {url}, not the db service"
        )),
    }
    // Provider base URLs naming a compose service: reachable only with private networks
    // allowed, and on the port that service answers its health check on.
    for (key, value) in &env {
        if !(key.starts_with("INTEGRATIONS__PROVIDERS__") && key.ends_with("__BASE_URL")) {
            continue;
        }
        let Some((_, _, host, port, _)) = url_parts(value) else {
            problems.push(format!(
                "docker-compose.yml: api: {key}={value} is not a URL"
            ));
            continue;
        };
        if !names.contains(&host) {
            continue;
        }
        if env
            .get("INTEGRATIONS__PROVIDERS__ALLOW_PRIVATE_NETWORKS")
            .map(String::as_str)
            != Some("true")
        {
            problems.push(format!(
                "docker-compose.yml: api: {key} points at the {host} service on the compose network, but INTEGRATIONS__PROVIDERS__ALLOW_PRIVATE_NETWORKS is not \"true\""
            ));
        }
        let target = &compose["services"][host.as_str()];
        match (port, healthcheck(target)) {
            (Some(p), Ok(test)) if test.contains(&format!(":{p}/")) => {}
            (port, test) => problems.push(format!(
                "docker-compose.yml: api: {key}={value}: the {host} service's healthcheck ({test:?}) does not check port {port:?}"
            )),
        }
    }
    problems
}

// ---------------------------------------------------------------------------------------------
// The checks on the files of the repository
// ---------------------------------------------------------------------------------------------

fn assert_no_problems(problems: Vec<String>) {
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_integrations_env_key_exists_in_default_toml() {
    let defaults = default_toml();
    let mut found = 0;
    let mut problems = Vec::new();
    for file in ["Dockerfile", "docker-compose.yml"] {
        let text = read(file);
        found += env_keys(&text).len();
        problems.extend(env_key_problems(file, &text, &defaults));
    }
    assert!(
        found >= 5,
        "expected the files to set INTEGRATIONS__ keys, found {found}"
    );
    assert_no_problems(problems);
}

#[test]
fn the_dockerfile_builds_a_non_root_image_that_starts_with_its_defaults() {
    assert_no_problems(check_dockerfile(
        &read("Dockerfile"),
        &read(".dockerignore"),
        &rust_version(),
    ));
}

#[test]
fn the_compose_file_pins_images_checks_health_and_wires_the_api() {
    assert_no_problems(check_compose(
        &read("docker-compose.yml"),
        &read("Dockerfile"),
    ));
}

fn vars(env: &BTreeMap<String, String>) -> Vec<(String, String)> {
    env.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// The image's ENV, read by the real settings code with the config folder the image copies.
#[test]
fn the_image_environment_parses_into_the_intended_settings() {
    let df = Dockerfile::parse(&read("Dockerfile"));
    let settings =
        integrations_server::Settings::load_with(&root().join("config"), vars(&df.env()))
            .expect("the Dockerfile's ENV must load");
    assert_eq!(settings.server.bind, "0.0.0.0:8080");
    assert_eq!(settings.database.url, "sqlite:///data/integrations.db");
    assert_eq!(
        settings.vault.master_key_file,
        PathBuf::from("/data/master.key")
    );
    assert!(settings.vault.master_key.is_none());
    assert!(!settings.vault.allow_insecure_key_file);
    assert!(
        !settings.providers.allow_private_networks,
        "the image must keep the SSRF guard on"
    );
}

/// The api service's environment (image ENV, then compose's, variables at their defaults).
#[test]
fn the_compose_environment_parses_into_the_intended_settings() {
    let compose = load_yaml(&read("docker-compose.yml"));
    let df = Dockerfile::parse(&read("Dockerfile"));
    let env = api_effective_env(&compose, &df).unwrap();
    let settings = integrations_server::Settings::load_with(&root().join("config"), vars(&env))
        .expect("the api service's environment must load");
    assert_eq!(settings.server.bind, "0.0.0.0:8080");
    assert_eq!(
        settings.database.url,
        "postgres://integrations:integrations@db:5432/integrations?sslmode=disable"
    );
    assert_eq!(
        settings.vault.master_key_file,
        PathBuf::from("/data/master.key")
    );
    assert_eq!(
        settings.providers.setting("s3", "base_url").unwrap(),
        "http://s3:7070"
    );
    assert!(settings.providers.allow_private_networks);
    // The S3 adapter accepts that base URL (as `serve` builds it).
    integrations_cloud_storage::StorageVerifier::new(
        Duration::from_millis(settings.verify.timeout_ms),
        &settings.providers,
    )
    .expect("the S3 adapter must accept the compose base URL");
}

/// The image's defaults started for real: the application is built from the Dockerfile's ENV
/// with its `/data` volume replaced by an empty temporary folder (the only change, besides
/// port 0), answers `/healthz` and `/readyz`, and keeps its database, its generated key file
/// and nothing else in that folder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_image_defaults_start_the_real_application_on_an_empty_volume() {
    let df = Dockerfile::parse(&read("Dockerfile"));
    let volume = tempfile::tempdir().unwrap();
    let mut env = df.env();
    for value in env.values_mut() {
        if value.contains("/data/") {
            *value = value.replace("/data/", &format!("{}/", volume.path().display()));
        }
    }
    let bind = env.get_mut(BIND).unwrap();
    *bind = format!("{}:0", bind_host(bind));
    let settings =
        integrations_server::Settings::load_with(&root().join("config"), vars(&env)).unwrap();
    assert!(
        settings.database.url.starts_with("sqlite:///"),
        "{}",
        settings.database.url
    );

    let app = integrations_server::Application::build(&settings)
        .await
        .expect("the image's defaults must start the service");
    assert!(
        app.first_api_key.is_some(),
        "an empty volume must get a first API key"
    );
    let key = app.first_api_key.as_ref().unwrap().expose().to_owned();
    let port = app.port();
    let handle = app.handle();
    let task = tokio::spawn(app.run_until_stopped());

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    for path in ["/healthz", "/readyz"] {
        let status = client
            .get(format!("{base}{path}"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), 200, "{path}");
    }
    let listed = client
        .get(format!("{base}/integration"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(listed.as_u16(), 200, "the first API key must work");
    handle.stop(true).await;
    let _ = task.await;

    let mut files: Vec<String> = std::fs::read_dir(volume.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert!(files.contains(&"integrations.db".to_owned()), "{files:?}");
    assert!(files.contains(&"master.key".to_owned()), "{files:?}");
    assert!(
        files
            .iter()
            .all(|f| f.starts_with("integrations.db") || f == "master.key"),
        "unexpected files in the volume: {files:?}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(volume.path().join("master.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the generated key file must be private"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The checks fail where they should
// ---------------------------------------------------------------------------------------------

/// The files as they were reported (unpinned MinIO, no S3 health check, an image bound to
/// 127.0.0.1 that writes under the working directory).
const REPORTED_COMPOSE: &str = r#"
services:
  db:
    image: postgres:16
    environment:
      POSTGRES_USER: integrations
      POSTGRES_PASSWORD: integrations
      POSTGRES_DB: integrations
    volumes: ["db:/var/lib/postgresql/data"]
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U integrations"]
  s3:
    image: minio/minio
    command: server /data
    ports: ["9000:9000"]
  api:
    build: .
    depends_on:
      db: { condition: service_healthy }
    environment:
      INTEGRATIONS__SERVER__BIND: 0.0.0.0:8080
      INTEGRATIONS__DATABASE__URL: postgres://integrations:integrations@db/integrations
      INTEGRATIONS__VAULT__MASTER_KEY_FILE: /data/master.key
      INTEGRATIONS__PROVIDERS__S3__BASE_URL: http://s3:9000
    volumes: ["keys:/data"]
    ports: ["8080:8080"]
volumes:
  db: {}
  keys: {}
"#;

const REPORTED_DOCKERFILE: &str = r#"
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin integrations

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/integrations /usr/local/bin/integrations
COPY config /app/config
WORKDIR /app
RUN mkdir /data && chown 65534 /data
USER 65534
ENTRYPOINT ["integrations"]
CMD ["serve"]
"#;

fn assert_reports(problems: &[String], expected: &[&str]) {
    for e in expected {
        assert!(
            problems.iter().any(|p| p.contains(e)),
            "expected a problem containing {e:?}; got:\n{}",
            problems.join("\n")
        );
    }
}

#[test]
fn the_checks_catch_the_reported_files() {
    let compose = check_compose(REPORTED_COMPOSE, REPORTED_DOCKERFILE);
    assert_reports(
        &compose,
        &[
            "image minio/minio is not pinned",
            "image postgres:16: tag 16 names no MAJOR.MINOR version",
            "service s3 has no healthcheck",
            "service api has no healthcheck",
            "api does not wait for s3",
            "service s3 keeps its data in no named volume",
            "INTEGRATIONS__PROVIDERS__ALLOW_PRIVATE_NETWORKS is not \"true\"",
        ],
    );
    let dockerfile = check_dockerfile(REPORTED_DOCKERFILE, ".git\ntarget\n", "1.95");
    assert_reports(
        &dockerfile,
        &[
            "no ENV INTEGRATIONS__SERVER__BIND",
            "no ENV INTEGRATIONS__DATABASE__URL",
            "no ENV INTEGRATIONS__VAULT__MASTER_KEY_FILE",
            "no VOLUME /data",
            "no HEALTHCHECK",
            "runtime stage copies [\"config\"]",
            "apt package ca-certificates is not pinned",
            ".dockerignore does not exclude .tools",
            ".dockerignore does not exclude fuzz/target",
        ],
    );
}

/// One change at a time to the current files, each caught.
#[test]
fn the_checks_catch_mutations_of_the_current_files() {
    let compose = read("docker-compose.yml");
    let dockerfile = read("Dockerfile");
    let dockerignore = read(".dockerignore");
    let rust = rust_version();

    let compose_cases: [(&str, &str, &str); 8] = [
        (
            "versity/versitygw:v1.7.0",
            "versity/versitygw:latest",
            "is not pinned",
        ),
        ("postgres:16.13-bookworm", "postgres", "no tag"),
        (
            "s3: { condition: service_healthy }",
            "s3: { condition: service_started }",
            "api does not wait for s3",
        ),
        (
            "\"127.0.0.1:8080:8080\"",
            "\"127.0.0.1:8080:9090\"",
            "publishes container port(s) [9090]",
        ),
        (
            "INTEGRATIONS__PROVIDERS__ALLOW_PRIVATE_NETWORKS: \"true\"",
            "INTEGRATIONS__PROVIDERS__ALLOW_PRIVATE_NETWORKS: \"false\"",
            "is not \"true\"",
        ),
        (
            "http://s3:7070",
            "http://s3:9000",
            "does not check port Some(9000)",
        ),
        (
            "@db:5432/integrations",
            "@db:5432/other",
            "the database in api's INTEGRATIONS__DATABASE__URL differs",
        ),
        (
            "      - api-data:/data\n",
            "      - api-data:/keys\n",
            "api's key file Some(\"/data/master.key\") is not inside a named volume",
        ),
    ];
    for (from, to, expected) in compose_cases {
        assert!(
            compose.contains(from),
            "docker-compose.yml no longer contains {from:?}"
        );
        let problems = check_compose(&compose.replace(from, to), &dockerfile);
        assert_reports(&problems, &[expected]);
    }
    // A compose key that is not a setting.
    let defaults = default_toml();
    let typo = compose.replacen(
        "INTEGRATIONS__PROVIDERS__S3__BASE_URL",
        "INTEGRATIONS__PROVIDERS__S3__BASEURL",
        1,
    );
    assert_reports(
        &env_key_problems("docker-compose.yml", &typo, &defaults),
        &["no setting providers.s3.baseurl"],
    );

    let dockerfile_cases: [(&str, &str, &str); 9] = [
        ("USER 10001:10001", "USER root", "USER root is root"),
        ("USER 10001:10001", "USER 0", "USER 0 is root"),
        (
            "INTEGRATIONS__SERVER__BIND=0.0.0.0:8080",
            "INTEGRATIONS__SERVER__BIND=127.0.0.1:8080",
            "does not listen on every interface",
        ),
        (
            "EXPOSE 8080",
            "EXPOSE 9090",
            "does not include the bind port 8080",
        ),
        (
            "INTEGRATIONS__DATABASE__URL=sqlite:///data/integrations.db",
            "INTEGRATIONS__DATABASE__URL=sqlite://data/integrations.db",
            "is not inside a VOLUME",
        ),
        (
            "INTEGRATIONS__VAULT__MASTER_KEY_FILE=/data/master.key",
            "INTEGRATIONS__VAULT__MASTER_KEY_FILE=/app/master.key",
            "/app/master.key is not inside a VOLUME",
        ),
        ("/readyz", "/healthz", "does not call /readyz"),
        (
            "VOLUME [\"/data\"]",
            "VOLUME [\"/state\"]",
            "no VOLUME /data",
        ),
        (
            "FROM rust:1.95-bookworm",
            "FROM rust:1.94-bookworm",
            "rust-version is",
        ),
    ];
    for (from, to, expected) in dockerfile_cases {
        assert!(
            dockerfile.contains(from),
            "Dockerfile no longer contains {from:?}"
        );
        let problems = check_dockerfile(&dockerfile.replace(from, to), &dockerignore, &rust);
        assert_reports(&problems, &[expected]);
    }
    let unpinned = dockerfile.replacen("curl=\"${CURL_VERSION}\"", "curl", 1);
    assert_reports(
        &check_dockerfile(&unpinned, &dockerignore, &rust),
        &["apt package curl is not pinned"],
    );
}

#[test]
fn the_helpers_read_what_they_claim() {
    let defaults = default_toml();
    assert_eq!(
        env_key_problem("INTEGRATIONS__SERVER__BIND", &defaults),
        None
    );
    assert_eq!(
        env_key_problem("INTEGRATIONS__PROVIDERS__INTERCOM__BASE_URL_EU", &defaults),
        None
    );
    // Commented out in default.toml: not a key of the file (the Settings struct still has it).
    assert!(env_key_problem("INTEGRATIONS__VAULT__MASTER_KEY", &defaults).is_some());
    assert!(env_key_problem("INTEGRATIONS__PROVIDERS__S3", &defaults).is_some());
    assert!(env_key_problem("INTEGRATIONS__SERVER", &defaults).is_some());
    assert!(env_key_problem("INTEGRATIONS__SERVER__BIND__X", &defaults).is_some());

    assert_eq!(
        env_keys("A ${INTEGRATIONS__SERVER__BIND##*:} INTEGRATIONS__DATABASE__URL=x"),
        BTreeSet::from([
            "INTEGRATIONS__DATABASE__URL".to_owned(),
            "INTEGRATIONS__SERVER__BIND".to_owned()
        ])
    );

    assert_eq!(image_pin_problem("postgres:16.13-bookworm", true), None);
    assert_eq!(image_pin_problem("versity/versitygw:v1.7.0", true), None);
    assert_eq!(image_pin_problem("debian:bookworm-slim", false), None);
    assert!(image_pin_problem("debian:bookworm-slim", true).is_some());
    assert!(image_pin_problem("localhost:5000/minio", false).is_some());
    assert!(image_pin_problem("quay.io/minio/minio:latest", false).is_some());
    let digest = format!("minio/minio@sha256:{}", "a".repeat(64));
    assert_eq!(image_pin_problem(&digest, true), None);

    assert_eq!(
        interpolate("postgres://u:${PW:-secret}@db/x").as_deref(),
        Ok("postgres://u:secret@db/x")
    );
    assert_eq!(interpolate("a$$b").as_deref(), Ok("a$b"));
    assert!(interpolate("${PW}").is_err());
    assert!(interpolate("${PW:?set it}").is_err());
    assert!(interpolate("$PW").is_err());
    assert!(interpolate("${PW:?set-it}").is_err());

    let df = Dockerfile::parse(
        "# c\nFROM a:1 AS b\nFROM c:2\nENV A=1 \\\n    B=\"two words\"\nENV C 3\nVOLUME /x /y\n",
    );
    assert_eq!(df.stages.len(), 2);
    assert_eq!(df.stages[0].name.as_deref(), Some("b"));
    assert_eq!(
        df.env(),
        BTreeMap::from([
            ("A".to_owned(), "1".to_owned()),
            ("B".to_owned(), "two words".to_owned()),
            ("C".to_owned(), "3".to_owned()),
        ])
    );
    assert_eq!(Dockerfile::list("/x /y"), vec!["/x", "/y"]);
    assert_eq!(Dockerfile::list("[\"/data\"]"), vec!["/data"]);

    assert!(inside("/data/master.key", &["/data".to_owned()]));
    assert!(!inside("/data", &["/data".to_owned()]));
    assert!(!inside("/database/x", &["/data".to_owned()]));
    assert!(!inside("data/master.key", &["/data".to_owned()]));
    assert_eq!(sqlite_path("sqlite:///data/x.db"), Some("/data/x.db"));
    assert_eq!(sqlite_path("sqlite://data/x.db"), Some("data/x.db"));
}
