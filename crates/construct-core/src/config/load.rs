//! Where configuration comes from, and in which order.
//!
//! Precedence, lowest first: built-in defaults, the TOML file, environment variables, command-line flags.
//! The file is `--config PATH`, else `$CONSTRUCT_CONFIG`, else `~/.construct/gateway.toml`; an explicit
//! file must exist, the default one may be missing. The data directory is `--data-dir`, else
//! `$CONSTRUCT_DATA_DIR`, else `~/.construct/gateway`.

use std::path::{Path, PathBuf};

use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};

use super::env::{EnvVars, is_known_env_var, overrides};
use super::{Config, validate};

/// Everything configuration is loaded from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigSources {
    /// `--config PATH`: must exist when given.
    pub config_file: Option<PathBuf>,
    /// `--data-dir PATH`.
    pub data_dir: Option<PathBuf>,
    /// `--host`, which beats the file and the environment.
    pub host: Option<String>,
    /// `--port`, which beats the file and the environment.
    pub port: Option<u16>,
    /// The environment to read `CONSTRUCT_*` variables and `HOME` from.
    pub env: EnvVars,
}

/// A validated configuration and the facts about how it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedConfig {
    /// The effective configuration.
    pub config: Config,
    /// The file that was read, if any.
    pub config_file: Option<PathBuf>,
    /// The data directory (not yet created; see [`ensure_data_dir`]).
    pub data_dir: PathBuf,
    /// Non-fatal findings, such as unknown keys, for the caller to log.
    pub warnings: Vec<String>,
    /// What it was loaded from, so an edit can be checked the same way.
    pub sources: ConfigSources,
}

impl LoadedConfig {
    /// Defaults with the given data directory: what an embedder or a test starts from.
    pub fn with_defaults(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            config: Config::default(),
            config_file: None,
            data_dir: data_dir.into(),
            warnings: Vec::new(),
            sources: ConfigSources::default(),
        }
    }
}

/// Why configuration could not be loaded. Every variant names the file, key or variable at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The config file is missing, unreadable or not valid TOML.
    #[error("config file {}: {reason}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A key holds a value of the wrong type or outside its allowed range.
    #[error("invalid value for `{key}`{}: {reason}", origin.as_ref().map(|o| format!(" (from {o})")).unwrap_or_default())]
    Invalid {
        /// Dotted key path, e.g. `gateway.port`.
        key: String,
        /// What is wrong.
        reason: String,
        /// Which source supplied the value, when known.
        origin: Option<String>,
    },
    /// An environment variable could not be parsed.
    #[error("environment variable {var}: {reason}")]
    Env {
        /// The variable.
        var: String,
        /// What is wrong.
        reason: String,
    },
    /// The data directory cannot be created or used.
    #[error("data directory {}: {reason}", path.display())]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// Loads, layers and validates configuration.
pub fn load(sources: &ConfigSources) -> Result<LoadedConfig, ConfigError> {
    let home = sources.env.get("HOME").map(PathBuf::from);
    let config_file = resolve_config_file(sources, home.as_deref())?;
    layer(sources, config_file.map(|path| (path, None)))
}

/// What [`load`] would give if the file at `path` held `contents`: the same layering (defaults, then
/// `contents`, then the environment and flags of `sources`) and the same validation. For checking an edit
/// before it is written.
pub fn load_with_contents(
    sources: &ConfigSources,
    path: &Path,
    contents: &str,
) -> Result<LoadedConfig, ConfigError> {
    layer(sources, Some((path.to_owned(), Some(contents.to_owned()))))
}

/// The file an edit of `loaded` should go to: the one that was read, else the one [`load`] would read
/// next time (`~/.construct/gateway.toml`, when no `--config` or `CONSTRUCT_CONFIG` names another).
pub fn config_file_to_write(loaded: &LoadedConfig) -> Option<PathBuf> {
    let sources = &loaded.sources;
    if loaded.config_file.is_some() {
        return loaded.config_file.clone();
    }
    if sources.config_file.is_some() || sources.env.get("CONSTRUCT_CONFIG").is_some() {
        return None;
    }
    sources.env.get("HOME").map(|home| PathBuf::from(home).join(".construct").join("gateway.toml"))
}

/// Layers defaults, the file (read from disk, or the given contents), the environment and flags.
fn layer(
    sources: &ConfigSources,
    file: Option<(PathBuf, Option<String>)>,
) -> Result<LoadedConfig, ConfigError> {
    let home = sources.env.get("HOME").map(PathBuf::from);
    let config_file = file.as_ref().map(|(path, _)| path.clone());
    let data_dir = match (&sources.data_dir, sources.env.get("CONSTRUCT_DATA_DIR"), &home) {
        (Some(dir), _, _) => dir.clone(),
        (None, Some(dir), _) => PathBuf::from(dir),
        (None, None, Some(home)) => home.join(".construct").join("gateway"),
        (None, None, None) => {
            return Err(ConfigError::DataDir {
                path: PathBuf::from("~/.construct/gateway"),
                reason: "HOME is not set; pass --data-dir or set CONSTRUCT_DATA_DIR".to_owned(),
            });
        }
    };

    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    match &file {
        Some((path, None)) => figment = figment.merge(Toml::file_exact(path)),
        Some((_, Some(contents))) => figment = figment.merge(Toml::string(contents)),
        None => {}
    }
    for o in overrides(&sources.env)? {
        figment = figment.merge(Override::new(format!("environment variable {}", o.var), o.key, o.value));
    }
    if let Some(host) = &sources.host {
        figment = figment.merge(Override::new("--host".into(), "gateway.host", Value::from(host.clone())));
    }
    if let Some(port) = sources.port {
        figment = figment.merge(Override::new("--port".into(), "gateway.port", Value::from(port)));
    }

    let mut config: Config = figment.extract().map_err(|e| from_figment(e, config_file.as_deref()))?;
    if let (Some(gmail), Some(secret)) =
        (config.channels_config.gmail_push.as_mut(), sources.env.get("GMAIL_PUSH_WEBHOOK_SECRET"))
        && gmail.webhook_secret.is_empty()
    {
        gmail.webhook_secret = crate::secret::Secret::new(secret.trim());
    }
    // Kumiho's own variable, as upstream: used when the file sets no token.
    if let Some(token) = sources.env.get("KUMIHO_SERVICE_TOKEN").map(str::trim).filter(|t| !t.is_empty())
        && config.kumiho.service_token.as_ref().is_none_or(crate::secret::Secret::is_empty)
    {
        config.kumiho.service_token = Some(crate::secret::Secret::new(token));
    }
    let mut warnings = unknown_keys(&figment);
    warnings.extend(unknown_env_vars(&sources.env));
    validate(&config).map_err(|err| match err {
        ConfigError::Invalid { key, reason, origin: None } => {
            let origin = figment.find_metadata(&key).map(describe_source);
            ConfigError::Invalid { key, reason, origin }
        }
        other => other,
    })?;
    // Validation passed, so every origin normalises.
    config.gateway.allowed_origins =
        config.gateway.allowed_origins.iter().filter_map(|o| super::normalize_origin(o).ok()).collect();
    Ok(LoadedConfig { config, config_file, data_dir, warnings, sources: sources.clone() })
}

fn resolve_config_file(sources: &ConfigSources, home: Option<&Path>) -> Result<Option<PathBuf>, ConfigError> {
    let explicit =
        sources.config_file.clone().or_else(|| sources.env.get("CONSTRUCT_CONFIG").map(PathBuf::from));
    if let Some(path) = explicit {
        return match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() => Ok(Some(path)),
            Ok(_) => Err(ConfigError::File { path, reason: "is not a regular file".into() }),
            Err(e) => Err(ConfigError::File { path, reason: e.to_string() }),
        };
    }
    Ok(home.map(|h| h.join(".construct").join("gateway.toml")).filter(|p| p.is_file()))
}

fn unknown_env_vars(env: &EnvVars) -> Vec<String> {
    env.names()
        .filter(|name| name.starts_with("CONSTRUCT_") && !is_known_env_var(name))
        .map(|name| format!("unknown environment variable {name} is ignored"))
        .collect()
}

/// Keys present in the sources that no field reads: probably typos, worth a warning.
fn unknown_keys(figment: &Figment) -> Vec<String> {
    let Ok(value) = figment.extract::<Value>() else {
        return Vec::new();
    };
    let mut unknown = Vec::new();
    let _: Result<Config, _> = serde_ignored::deserialize(&value, |path| unknown.push(path.to_string()));
    unknown
        .into_iter()
        .map(|key| {
            let origin =
                figment.find_metadata(&key).map(describe_source).unwrap_or_else(|| "configuration".into());
            format!("unknown configuration key `{key}` in {origin} is ignored")
        })
        .collect()
}

fn describe_source(metadata: &Metadata) -> String {
    match &metadata.source {
        Some(figment::Source::File(path)) => format!("{}", path.display()),
        _ if metadata.name == "Serialized" => "defaults".to_owned(),
        _ => metadata.name.to_string(),
    }
}

fn from_figment(error: figment::Error, file: Option<&Path>) -> ConfigError {
    let origin = error.metadata.as_ref().map(describe_source);
    if error.path.is_empty() {
        // No key: the file itself could not be read or parsed.
        return match file {
            Some(path) => ConfigError::File { path: path.to_owned(), reason: error.kind.to_string() },
            None => ConfigError::Invalid { key: "(root)".into(), reason: error.kind.to_string(), origin },
        };
    }
    ConfigError::Invalid { key: error.path.join("."), reason: error.kind.to_string(), origin }
}

/// A single key set by the environment or the command line, named so errors can say where it came from.
struct Override {
    name: String,
    data: Dict,
}

impl Override {
    fn new(name: String, key: &str, value: Value) -> Self {
        let data = match figment::util::nest(key, value) {
            Value::Dict(_, dict) => dict,
            _ => Dict::new(),
        };
        Self { name, data }
    }
}

impl Provider for Override {
    fn metadata(&self) -> Metadata {
        Metadata::named(self.name.clone())
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.data.clone()))
    }
}

/// Creates the data directory with mode 0700 if it does not exist, tightens an existing one that others
/// can read or enter to 0700, and checks it is a writable directory.
pub fn ensure_data_dir(path: &Path) -> Result<(), ConfigError> {
    let fail = |reason: String| ConfigError::DataDir { path: path.to_owned(), reason };
    if !path.exists() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(path).map_err(|e| fail(format!("cannot create: {e}")))?;
    }
    let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
    if !meta.is_dir() {
        return Err(fail("exists and is not a directory".into()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| fail(format!("is readable by other users and cannot be made private: {e}")))?;
        }
    }
    probe_writable(path).map_err(|e| fail(format!("not writable: {e}")))
}

/// Creates and removes a uniquely named file in `dir`. `create_new` never follows a planted symlink, and
/// the unique name lets concurrent probes run without tripping over each other.
pub fn probe_writable(dir: &Path) -> std::io::Result<()> {
    static PROBES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let probe = dir.join(format!(".write-probe-{}-{n}", std::process::id()));
    std::fs::OpenOptions::new().write(true).create_new(true).open(&probe)?;
    std::fs::remove_file(probe)
}
