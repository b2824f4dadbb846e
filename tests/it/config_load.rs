//! Loading `rules.yaml`: the shipped default file, errors with positions, options, globs,
//! and the per-folder discovery of config files.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use apimfix::config::{Config, ConfigError, ConfigResolver, LoadedConfig, Location, PathKind};
use apimfix::layout::Scope;
use apimfix::rules::base_first::BaseFirstOptions;
use apimfix::rules::cors_first::GateOptions;
use apimfix::rules::cors_origins::CorsOriginsOptions;
use apimfix::rules::{Rule, Toggle};

/// The error as the CLI shows it, `path[:line:col]: error: message`; checks on the way that
/// the error's own Display says only what is wrong.
fn shown(err: &ConfigError) -> String {
    let message = err.to_string();
    assert_eq!(message, err.message());
    assert!(!message.contains(": error: "), "{message}");
    let place = match err.location() {
        Some(at) => format!("{}:{}:{}", err.path().display(), at.line, at.column),
        None => err.path().display().to_string(),
    };
    format!("{place}: error: {message}")
}

fn load(text: &str) -> LoadedConfig {
    match LoadedConfig::from_str(text, Path::new("/repo/rules.yaml")) {
        Ok(loaded) => loaded,
        Err(err) => panic!("config should load: {err}"),
    }
}

fn load_err(text: &str) -> ConfigError {
    match LoadedConfig::from_str(text, Path::new("/repo/rules.yaml")) {
        Ok(loaded) => panic!("config should be rejected: {:?}", loaded.config),
        Err(err) => err,
    }
}

fn crate_rules_yaml() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("rules.yaml")
}

#[test]
fn shipped_rules_yaml_is_the_defaults() {
    let loaded = LoadedConfig::from_file(&crate_rules_yaml()).expect("rules.yaml loads");
    assert_eq!(loaded.config, Config::default());
}

#[test]
fn shipped_rules_yaml_spells_out_every_option() {
    // Parsing alone cannot catch an option missing from the file (it would take its
    // default), so compare the YAML tree with the defaults serialized, every rule that has
    // options written as its options map.
    let text = fs::read_to_string(crate_rules_yaml()).expect("read rules.yaml");
    let file: yaml_serde::Value = yaml_serde::from_str(&text).expect("rules.yaml is YAML");
    let mut expanded = Config::default();
    expanded.rules.base_first = Toggle::Options(BaseFirstOptions::default());
    expanded.rules.cors_first = Toggle::Options(GateOptions::default());
    expanded.rules.cors_origins = Toggle::Options(CorsOriginsOptions::default());
    let expected = yaml_serde::to_value(&expanded).expect("defaults serialize");
    assert_eq!(file, expected);
}

#[test]
fn rules_section_has_exactly_the_registered_rules() {
    let value = yaml_serde::to_value(Config::default().rules).expect("serialize");
    let mapping = value.as_mapping().expect("rules is a map");
    let keys: Vec<&str> = mapping.keys().filter_map(|k| k.as_str()).collect();
    let names: Vec<&str> = Rule::ALL.iter().map(|r| r.name()).collect();
    assert_eq!(keys, names);
}

#[test]
fn unknown_nested_key_reports_its_line_and_column() {
    let err = load_err(
        "rules:\n  base-missing: true\n  cors-first:\n    gates: [quota]\n    extend-gatez: [ip-filter]\n",
    );
    match &err {
        ConfigError::Parse {
            location, message, ..
        } => {
            assert_eq!(*location, Some(Location { line: 5, column: 5 }));
            assert!(
                message.contains("unknown field `extend-gatez`"),
                "{message}"
            );
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
    let rendered = shown(&err);
    assert!(
        rendered.starts_with(
            "/repo/rules.yaml:5:5: error: rules.cors-first: unknown field `extend-gatez`"
        ),
        "{rendered}"
    );
    // The position is given once, in front, not repeated at the end.
    assert!(!rendered.contains("at line"), "{rendered}");
}

#[test]
fn unknown_rule_key_and_top_level_key_are_rejected_with_lines() {
    let err = load_err("format:\n  indent-width: 2\nrules:\n  base-mising: false\n");
    assert!(
        shown(&err).starts_with("/repo/rules.yaml:4:3: error: rules: unknown field `base-mising`"),
        "{err}"
    );
    let err = load_err("unsafe-fixes: true\nexlude: [a]\n");
    assert!(
        shown(&err).starts_with("/repo/rules.yaml:2:1: error: unknown field `exlude`"),
        "{err}"
    );
}

#[test]
fn yaml_syntax_error_has_a_position() {
    let err = load_err("rules:\n  base-missing: [true\nformat: {}\n");
    match err {
        ConfigError::Parse { location, .. } => assert!(location.is_some()),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn yes_is_not_a_boolean() {
    let err = load_err("rules:\n  cors-first: yes\n");
    assert!(
        shown(&err).contains("expected `true`, `false` or a map of options"),
        "{err}"
    );
}

#[test]
fn false_disables_only_that_rule() {
    let rules = load("rules:\n  base-missing: false\n").config.rules;
    assert!(!rules.base_missing.is_enabled());
    assert!(rules.base_forbidden.is_enabled());
    assert!(rules.cors_first.is_enabled());
}

#[test]
fn a_map_sets_options_and_keeps_the_rule_on() {
    let rules = load(
        "rules:\n  cors-first:\n    extend-gates: [validate-jwt, ip-filter]\n  base-first: {global-has-cors: true}\n  cors-origins:\n    origins: [https://portal.contoso.com]\n    template: {allow-credentials: true}\n",
    )
    .config
    .rules;
    assert!(rules.cors_first.is_enabled());
    let gates = rules.cors_first.options();
    assert!(gates.is_gate("VALIDATE-JWT"));
    assert!(gates.is_gate("quota"), "extend-gates keeps the defaults");
    assert!(!gates.is_gate("set-header"));
    assert!(rules.base_first.options().global_has_cors);
    let origins = rules.cors_origins.options();
    assert_eq!(origins.origins, ["https://portal.contoso.com"]);
    assert!(origins.template.allow_credentials);
    assert_eq!(origins.template.preflight_result_max_age, Some(300));
}

#[test]
fn gates_replaces_the_default_list() {
    let gates = load("rules:\n  cors-first:\n    gates: [check-header]\n")
        .config
        .rules
        .cors_first
        .options();
    assert!(gates.is_gate("check-header"));
    assert!(!gates.is_gate("quota"));
}

#[test]
fn empty_value_means_on_with_defaults() {
    let rules = load("rules:\n  cors-first:\n    # gates: [quota]\n")
        .config
        .rules;
    assert_eq!(rules.cors_first, Toggle::Enabled(true));
    assert_eq!(rules.cors_first, Toggle::Options(GateOptions::default()));
    assert_ne!(rules.cors_first, Toggle::Enabled(false));
}

#[test]
fn empty_or_comment_only_file_is_the_defaults() {
    assert_eq!(load("").config, Config::default());
    assert_eq!(load("# nothing yet\n").config, Config::default());
}

#[test]
fn base_dir_is_the_config_folder() {
    let loaded = load("");
    assert_eq!(loaded.base_dir, Path::new("/repo"));
    assert_eq!(
        loaded.source.as_deref(),
        Some(Path::new("/repo/rules.yaml"))
    );
    let defaults = LoadedConfig::defaults(Path::new("/work/here"));
    assert_eq!(defaults.source, None);
    assert_eq!(defaults.base_dir, Path::new("/work/here"));
}

#[test]
fn per_file_ignores_match_by_glob() {
    let loaded = load(
        "per-file-ignores:\n  'fragments/**': [base-missing]\n  'echo.xml': [cors-first, cors-origins]\n  'legacy/': [base-first]\n",
    );
    let ignored = |path: &str, rule| loaded.is_rule_ignored(Path::new(path), rule);
    // Anchored: `fragments/` right under the config folder only.
    assert!(ignored("/repo/fragments/a/b.xml", Rule::BaseMissing));
    assert!(!ignored("/repo/sub/fragments/b.xml", Rule::BaseMissing));
    assert!(!ignored("/repo/fragments/b.xml", Rule::BaseForbidden));
    // No slash: any depth.
    assert!(ignored("/repo/apis/x/echo.xml", Rule::CorsFirst));
    assert!(ignored("/repo/echo.xml", Rule::CorsOrigins));
    assert!(!ignored("/repo/apis/x/echo2.xml", Rule::CorsFirst));
    // A folder glob covers what is below it.
    assert!(ignored("/repo/a/legacy/p.xml", Rule::BaseFirst));
    assert!(!ignored("/repo/a/legacy.xml", Rule::BaseFirst));
}

#[test]
fn relative_paths_are_taken_from_the_current_directory() {
    let cwd = std::env::current_dir().expect("cwd");
    let loaded = LoadedConfig::from_str(
        "per-file-ignores:\n  'apis/*.xml': [base-missing]\n",
        &cwd.join("rules.yaml"),
    )
    .expect("loads");
    assert!(loaded.is_rule_ignored(Path::new("apis/a.xml"), Rule::BaseMissing));
    assert!(loaded.is_rule_ignored(Path::new("./x/../apis/a.xml"), Rule::BaseMissing));
    assert!(!loaded.is_rule_ignored(Path::new("apis/deeper/a.xml"), Rule::BaseMissing));
}

#[test]
fn unknown_rule_in_per_file_ignores_lists_known_rules() {
    let err = load_err("per-file-ignores:\n  'a/*.xml':\n    - base-missing\n    - cors-frist\n");
    let rendered = shown(&err);
    assert!(
        rendered.starts_with("/repo/rules.yaml:4:7: error: "),
        "{rendered}"
    );
    assert!(rendered.contains("unknown rule `cors-frist`"), "{rendered}");
    assert!(
        rendered.contains("known rules: base-missing, "),
        "{rendered}"
    );
}

#[test]
fn invalid_glob_is_rejected_with_its_position() {
    let err = load_err("exclude:\n  - ok/\n  - 'apis/{a,b'\n");
    assert!(
        shown(&err).starts_with("/repo/rules.yaml:3:5: error: "),
        "{err}"
    );
    assert!(shown(&err).contains("invalid glob `apis/{a,b`"), "{err}");
    let err = load_err("scopes:\n  '[x': api\n");
    assert!(
        shown(&err).starts_with("/repo/rules.yaml:2:3: error: "),
        "{err}"
    );
    let err = load_err("scopes:\n  '!x.xml': api\n");
    assert!(
        shown(&err).contains("only has a meaning in `exclude`"),
        "{err}"
    );
}

#[test]
fn config_built_in_code_is_checked_too() {
    let mut config = Config::default();
    config
        .per_file_ignores
        .insert("*.xml".into(), vec!["nope".into()]);
    match LoadedConfig::new(config, None, PathBuf::from("/repo")) {
        Err(ConfigError::UnknownRule { glob, name, .. }) => {
            assert_eq!(glob, "*.xml");
            assert_eq!(name, "nope");
        }
        other => panic!("expected an unknown rule error, got {other:?}"),
    }
    let mut config = Config::default();
    config.exclude.push("a/{b".into());
    match LoadedConfig::new(config, None, PathBuf::from("/repo")) {
        Err(ConfigError::InvalidGlob { glob, .. }) => assert_eq!(glob, "a/{b"),
        other => panic!("expected an invalid glob error, got {other:?}"),
    }
}

#[test]
fn scopes_longest_glob_wins() {
    let loaded = load(
        "scopes:\n  'policies/**': api\n  'policies/products/*.xml': product\n  'all-apis.xml': global\n",
    );
    let scope = |path: &str| loaded.scope_for(Path::new(path));
    assert_eq!(scope("/repo/policies/products/p.xml"), Some(Scope::Product));
    assert_eq!(scope("/repo/policies/apis/a.xml"), Some(Scope::Api));
    // `all-apis.xml` (12 characters) is longer than `policies/**` (11).
    assert_eq!(scope("/repo/policies/all-apis.xml"), Some(Scope::Global));
    assert_eq!(scope("/repo/other/all-apis.xml"), Some(Scope::Global));
    assert_eq!(scope("/repo/other/x.xml"), None);
}

#[test]
fn scopes_equal_length_first_in_sort_order_wins() {
    let loaded = load("scopes:\n  'b/*.xml': product\n  '*/a.xml': api\n");
    // Both globs are 7 characters long; `*/a.xml` sorts before `b/*.xml`.
    assert_eq!(
        loaded.scope_for(Path::new("/repo/b/a.xml")),
        Some(Scope::Api)
    );
}

#[test]
fn exclude_uses_gitignore_semantics() {
    let loaded = load(
        "exclude:\n  - legacy/\n  - /top.xml\n  - '*.bak.xml'\n  - 'old/**'\n  - '!old/keep.xml'\n",
    );
    let excluded = |path: &str| loaded.is_excluded(Path::new(path));
    assert!(excluded("/repo/legacy/a.xml"));
    assert!(
        excluded("/repo/apis/legacy/deep/a.xml"),
        "no slash inside: any depth"
    );
    assert!(!excluded("/repo/legacy"), "trailing slash: folders only");
    assert!(loaded.is_excluded_as(Path::new("/repo/apis/legacy"), PathKind::Dir));
    assert!(excluded("/repo/top.xml"));
    assert!(!excluded("/repo/apis/top.xml"), "leading slash anchors");
    assert!(excluded("/repo/apis/x.bak.xml"));
    assert!(excluded("/repo/old/a.xml"));
    assert!(!excluded("/repo/old/keep.xml"), "`!` re-includes");
    assert!(!excluded("/repo/apis/a.xml"));
    // Outside the config's folder only unanchored globs can match.
    assert!(excluded("/elsewhere/legacy/a.xml"));
    assert!(!excluded("/elsewhere/top.xml"));
}

#[test]
fn missing_file_is_an_io_error_naming_it() {
    let err = LoadedConfig::from_file(Path::new("/nonexistent/apimfix/rules.yaml"))
        .expect_err("missing file");
    assert!(matches!(err, ConfigError::Io { .. }));
    assert_eq!(err.path(), Path::new("/nonexistent/apimfix/rules.yaml"));
    assert!(
        shown(&err)
            .starts_with("/nonexistent/apimfix/rules.yaml: error: cannot read config file: "),
        "{err}"
    );
}

// Discovery.

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

/// root/rules.yaml, root/a/rules.yaml + root/a/.apimfix.yaml, root/a/b/c/, root/x/.
fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(&root.join("rules.yaml"), "format: {indent-width: 1}\n");
    write(&root.join("a/rules.yaml"), "format: {indent-width: 2}\n");
    write(&root.join("a/.apimfix.yaml"), "format: {indent-width: 3}\n");
    fs::create_dir_all(root.join("a/b/c")).expect("mkdir");
    fs::create_dir_all(root.join("x")).expect("mkdir");
    dir
}

fn width(resolver: &ConfigResolver, file: &Path) -> usize {
    resolver
        .for_path(file)
        .expect("config")
        .config
        .format
        .indent_width
}

#[test]
fn nearest_config_file_wins_and_apimfix_yaml_beats_rules_yaml() {
    let dir = tree();
    let root = dir.path();
    let resolver = ConfigResolver::with_cwd(None, root).expect("resolver");
    assert_eq!(width(&resolver, &root.join("a/b/c/p.xml")), 3);
    assert_eq!(width(&resolver, &root.join("a/p.xml")), 3);
    assert_eq!(width(&resolver, &root.join("x/p.xml")), 1);
    assert_eq!(width(&resolver, &root.join("p.xml")), 1);
    // Relative paths are taken from the resolver's current directory.
    assert_eq!(width(&resolver, Path::new("a/b/p.xml")), 3);
    let found = resolver
        .for_path(&root.join("a/b/c/p.xml"))
        .expect("config");
    assert_eq!(
        found.source.as_deref(),
        Some(root.join("a/.apimfix.yaml").as_path())
    );
    assert_eq!(found.base_dir, root.join("a"));
}

#[test]
fn no_config_anywhere_gives_defaults_rooted_at_the_cwd() {
    // Assumes no rules.yaml or .apimfix.yaml in the system temp folder or above it.
    let dir = tempfile::tempdir().expect("tempdir");
    let resolver = ConfigResolver::with_cwd(None, dir.path()).expect("resolver");
    let loaded = resolver
        .for_path(&dir.path().join("deep/er/p.xml"))
        .expect("config");
    assert_eq!(loaded.source, None);
    assert_eq!(loaded.base_dir, dir.path());
    assert_eq!(loaded.config, Config::default());
}

#[test]
fn explicit_config_wins_everywhere() {
    let dir = tree();
    let root = dir.path();
    write(
        &root.join("elsewhere/custom.yaml"),
        "format: {indent-width: 7}\n",
    );
    let resolver =
        ConfigResolver::with_cwd(Some(Path::new("elsewhere/custom.yaml")), root).expect("resolver");
    assert_eq!(width(&resolver, &root.join("a/b/c/p.xml")), 7);
    assert_eq!(width(&resolver, &root.join("x/p.xml")), 7);
    assert_eq!(width(&resolver, Path::new("/somewhere/else/p.xml")), 7);
}

#[test]
fn explicit_config_that_does_not_load_fails_up_front() {
    let dir = tree();
    let missing = ConfigResolver::with_cwd(Some(Path::new("nope.yaml")), dir.path());
    assert!(matches!(missing, Err(ConfigError::Io { .. })));
    write(&dir.path().join("bad.yaml"), "rules: {nope: true}\n");
    let bad = ConfigResolver::with_cwd(Some(Path::new("bad.yaml")), dir.path());
    assert!(matches!(bad, Err(ConfigError::Parse { .. })));
}

#[test]
fn one_parse_per_config_file_shared_between_files_and_threads() {
    let dir = tree();
    let root = dir.path();
    let resolver = ConfigResolver::with_cwd(None, root).expect("resolver");
    let first = resolver
        .for_path(&root.join("a/b/c/p.xml"))
        .expect("config");
    let results: Vec<Arc<LoadedConfig>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let resolver = &resolver;
                let path = root.join(format!("a/b/p{i}.xml"));
                scope.spawn(move || resolver.for_path(&path).expect("config"))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    for loaded in results {
        assert!(Arc::ptr_eq(&first, &loaded));
    }
}

#[test]
fn broken_config_is_reported_for_the_files_it_governs() {
    let dir = tree();
    let root = dir.path();
    write(
        &root.join("x/rules.yaml"),
        "rules:\n  cors-first: {gatez: []}\n",
    );
    let resolver = ConfigResolver::with_cwd(None, root).expect("resolver");
    for _ in 0..2 {
        let err = resolver
            .for_path(&root.join("x/p.xml"))
            .expect_err("broken config");
        assert_eq!(err.path(), root.join("x/rules.yaml"));
        assert!(shown(&err).contains(":2:16: error: "), "{err}");
    }
    assert_eq!(
        width(&resolver, &root.join("a/p.xml")),
        3,
        "other folders unaffected"
    );
}
