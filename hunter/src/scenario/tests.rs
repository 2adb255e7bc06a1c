//! Tests of scenario loading: every message a user sees for a bad file, and the values a good
//! file produces.

use super::*;

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn load_err(&self, text: &str) -> String {
        let path = self.write("scenario.toml", text);
        match load(&path) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(error) => {
                let shown = error.to_string();
                let prefix = format!("{}:", path.display());
                assert!(shown.starts_with(&prefix), "{shown}");
                shown[prefix.len()..].trim_start().to_string()
            }
        }
    }
}

const GOOD_TARGET: &str = "[target]\ncommand = [\"node\", \"server.js\"]\n";

#[test]
fn missing_file_names_the_file_and_the_reason() {
    let error = load(Path::new("scenarios/does-not-exist.toml")).unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot read scenarios/does-not-exist.toml: No such file or directory"
    );
    assert!(error.is_io());
}

#[test]
fn syntax_error_gives_line_and_column() {
    let fixture = Fixture::new();
    let message = fixture.load_err("name = \"x\"\n[target\ncommand = [\"node\"]\n");
    assert!(message.starts_with("2:8: TOML syntax error: "), "{message}");
}

#[test]
fn unknown_key_names_line_key_table_and_the_known_keys() {
    let fixture = Fixture::new();
    let text = format!("{GOOD_TARGET}[workload]\neval = \"1\"\n\n[hunt]\niteratons = 5\n");
    assert_eq!(
        fixture.load_err(&text),
        "7:1: unknown key `iteratons` in [hunt] (expected one of: iterations, warmup, timeout_s, children)"
    );
}

#[test]
fn unknown_key_in_inline_table_names_the_nested_table() {
    let fixture = Fixture::new();
    let text = "[target]\ncommand = [\"node\"]\nready = { lgo = 'x' }\n[workload]\neval = \"1\"\n";
    assert_eq!(
        fixture.load_err(text),
        "3:11: unknown key `lgo` in [target.ready] (expected one of: log, http, delay_ms)"
    );
}

#[test]
fn unknown_top_level_key() {
    let fixture = Fixture::new();
    let text = format!("nmae = \"x\"\n{GOOD_TARGET}[workload]\neval = \"1\"\n");
    assert_eq!(
        fixture.load_err(&text),
        "1:1: unknown key `nmae` in the top level (expected one of: name, description, target, workload, hunt, gate)"
    );
}

#[test]
fn wrong_type_names_key_expected_and_found() {
    let fixture = Fixture::new();
    let text = format!("{GOOD_TARGET}[workload]\neval = \"1\"\n[hunt]\niterations = \"5\"\n");
    assert_eq!(
        fixture.load_err(&text),
        "6:14: [hunt] iterations: expected a positive integer, found string \"5\""
    );
}

#[test]
fn wrong_type_inside_an_array_of_requests() {
    let fixture = Fixture::new();
    let text = format!(
        "{GOOD_TARGET}[workload]\nhttp = [{{ url = \"http://127.0.0.1:1/\", times = \"4\" }}]\n"
    );
    assert_eq!(
        fixture.load_err(&text),
        "4:48: [workload.http[0]] times: expected a positive integer, found string \"4\""
    );
}

#[test]
fn command_of_wrong_type() {
    let fixture = Fixture::new();
    let text = "[target]\ncommand = \"node server.js\"\n[workload]\neval = \"1\"\n";
    assert_eq!(
        fixture.load_err(text),
        "2:11: [target] command: expected an array of strings, found string \"node server.js\""
    );
}

#[test]
fn missing_target_and_missing_command() {
    let fixture = Fixture::new();
    assert_eq!(
        fixture.load_err("[workload]\neval = \"1\"\n"),
        "missing required table [target]"
    );
    let message = fixture.load_err("[target]\ncwd = \".\"\n[workload]\neval = \"1\"\n");
    assert_eq!(message, "1:1: [target]: missing required key `command`");
}

#[test]
fn empty_command_is_refused() {
    let fixture = Fixture::new();
    let message = fixture.load_err("[target]\ncommand = []\n[workload]\neval = \"1\"\n");
    assert_eq!(
        message,
        "2:1: [target] command: must name a program, e.g. [\"node\", \"server.js\"]"
    );
}

#[test]
fn no_workload_and_two_workloads() {
    let fixture = Fixture::new();
    let none = fixture.load_err(&format!("{GOOD_TARGET}[workload]\n"));
    assert_eq!(
        none,
        "3:1: [workload]: give exactly one of eval, module, http, exec (found none)"
    );
    let two = fixture.load_err(&format!(
        "{GOOD_TARGET}[workload]\neval = \"1\"\nexec = [\"true\"]\n"
    ));
    assert_eq!(
        two,
        "5:1: [workload]: give exactly one of eval, module, http, exec (found eval and exec)"
    );
}

#[test]
fn bad_ready_regex_names_the_key() {
    let fixture = Fixture::new();
    let text = "[target]\ncommand = [\"node\"]\nready = { log = 'listening on (\\d+' }\n[workload]\neval = \"1\"\n";
    let message = fixture.load_err(text);
    assert!(
        message.starts_with("3:11: [target.ready] log: invalid regex: "),
        "{message}"
    );
}

#[test]
fn bad_gate_regex_names_the_index() {
    let fixture = Fixture::new();
    let text = format!("{GOOD_TARGET}[workload]\neval = \"1\"\n[gate]\nignore = [\"ok\", \"(\"]\n");
    let message = fixture.load_err(&text);
    assert!(
        message.starts_with("6:1: [gate] ignore[1]: invalid regex: "),
        "{message}"
    );
}

#[test]
fn one_iteration_is_refused_with_the_reason() {
    let fixture = Fixture::new();
    let text = format!("{GOOD_TARGET}[workload]\neval = \"1\"\n[hunt]\niterations = 1\n");
    assert_eq!(
        fixture.load_err(&text),
        "6:1: [hunt] iterations: must be at least 2 (a growth needs two measured points), found 1"
    );
}

#[test]
fn placeholder_must_name_a_capture() {
    let fixture = Fixture::new();
    let text = "[target]\ncommand = [\"node\"]\nready = { log = 'on (?P<port>\\d+)' }\n[workload]\nexec = [\"curl\", \"http://127.0.0.1:{prot}/\"]\n";
    let message = fixture.load_err(text);
    assert!(
        message.starts_with("5:1: [workload] exec[1]: placeholder {prot} is not a named capture of [target] ready.log (ready.log captures: port;"),
        "{message}"
    );
    let without_log =
        format!("{GOOD_TARGET}[workload]\nhttp = [{{ url = \"http://127.0.0.1:{{port}}/\" }}]\n");
    let message = fixture.load_err(&without_log);
    assert!(
        message
            .starts_with("4:1: [workload.http[0]] url: placeholder {port} is not a named capture"),
        "{message}"
    );
}

#[test]
fn good_file_with_every_key() {
    let fixture = Fixture::new();
    fixture.write("app/server.js", "");
    fixture.write("work.js", "exports.iteration = () => {}");
    let path = fixture.write(
        "leaky.toml",
        r#"name = "traces"
description = "request traces"
[target]
command = ["node", "server.js"]
cwd = "app"
env = { NODE_ENV = "production" }
ready = { log = 'listening on (?P<port>\d+)', http = "http://127.0.0.1:{port}/health" }
[workload]
http = [{ method = "post", url = "http://127.0.0.1:{port}/orders", times = 40, body = '{"id":1}', headers = { "x-port" = "{port}" }, expect_status = [201] }]
[hunt]
iterations = 3
warmup = 0
timeout_s = 2.5
children = false
[gate]
ignore = ["^Timeout$"]
min_bytes_per_iteration = 1024
"#,
    );
    let scenario = load(&path).unwrap();
    let dir = std::fs::canonicalize(fixture.dir.path()).unwrap();
    assert_eq!(scenario.name, "traces");
    assert_eq!(scenario.description, "request traces");
    assert_eq!(scenario.dir, dir);
    assert_eq!(scenario.target.command, ["node", "server.js"]);
    assert_eq!(scenario.target.cwd, dir.join("app"));
    assert_eq!(
        scenario.target.env.get("NODE_ENV").map(String::as_str),
        Some("production")
    );
    match &scenario.target.ready {
        Ready::Http {
            url,
            log: Some(log),
        } => {
            assert_eq!(url, "http://127.0.0.1:{port}/health");
            assert_eq!(log.as_str(), r"listening on (?P<port>\d+)");
        }
        other => panic!("{other:?}"),
    }
    let Workload::Http(requests) = &scenario.workload else {
        panic!("{:?}", scenario.workload)
    };
    assert_eq!(
        requests,
        &[HttpRequest {
            method: "POST".into(),
            url: "http://127.0.0.1:{port}/orders".into(),
            times: 40,
            body: Some(r#"{"id":1}"#.into()),
            headers: [("x-port".to_string(), "{port}".to_string())].into(),
            expect_status: Some(vec![201]),
        }]
    );
    assert_eq!(
        scenario.hunt,
        HuntSettings {
            iterations: 3,
            warmup: 0,
            timeout: Duration::from_millis(2500),
            children: false
        }
    );
    assert_eq!(scenario.gate.ignore.len(), 1);
    assert_eq!(scenario.gate.min_bytes_per_iteration, 1024.0);
}

#[test]
fn defaults_and_name_from_directory() {
    let fixture = Fixture::new();
    fixture.write("orders/work.mjs", "export function iteration() {}");
    let path = fixture.write(
        "orders/scenario.toml",
        "[target]\ncommand = [\"node\", \"s.js\"]\n[workload]\nmodule = \"work.mjs\"\n",
    );
    let scenario = load(&path).unwrap();
    assert_eq!(scenario.name, "orders");
    assert!(matches!(scenario.target.ready, Ready::Inspector));
    let dir = std::fs::canonicalize(fixture.dir.path().join("orders")).unwrap();
    assert!(matches!(&scenario.workload, Workload::Module(path) if *path == dir.join("work.mjs")));
    assert_eq!(
        scenario.hunt,
        HuntSettings {
            iterations: DEFAULT_ITERATIONS,
            warmup: DEFAULT_WARMUP,
            timeout: DEFAULT_TIMEOUT,
            children: true
        }
    );
    let other = fixture.write(
        "plain.toml",
        "[target]\ncommand = [\"node\"]\n[workload]\neval = \"1\"\n",
    );
    assert_eq!(load(&other).unwrap().name, "plain");
}

#[test]
fn missing_module_file_is_refused() {
    let fixture = Fixture::new();
    let message = fixture.load_err(&format!("{GOOD_TARGET}[workload]\nmodule = \"nope.js\"\n"));
    assert!(message.starts_with("4:1: [workload] module: "), "{message}");
    assert!(message.ends_with("nope.js is not a file"), "{message}");
}

#[test]
fn placeholders_expand_and_escape() {
    let values: Placeholders = [("port".to_string(), "8080".to_string())].into();
    assert_eq!(expand("http://h:{port}/x", &values), "http://h:8080/x");
    assert_eq!(
        expand("{{port}} {\"a\":{port}}", &values),
        "{port} {\"a\":8080}"
    );
    assert_eq!(placeholder_names("{a} {{b}} {1x} {c_2}"), ["a", "c_2"]);
}

#[test]
fn expand_inputs_files_directories_and_corpus_layout() {
    let fixture = Fixture::new();
    let b = fixture.write("flat/b.toml", "");
    let a = fixture.write("flat/a.toml", "");
    fixture.write("flat/notes.md", "");
    let y = fixture.write("corpus/y/scenario.toml", "");
    let x = fixture.write("corpus/x/scenario.toml", "");
    fixture.write("corpus/z/readme.md", "");
    std::fs::create_dir_all(fixture.dir.path().join("empty")).unwrap();
    let root = fixture.dir.path();
    assert_eq!(
        expand_inputs(&[root.join("flat"), root.join("corpus"), b.clone()]).unwrap(),
        vec![a, b.clone(), x, y, b]
    );
    let error = expand_inputs(&[root.join("empty")]).unwrap_err();
    assert!(error.to_string().ends_with(
        "empty: no scenario files in this directory (looked for *.toml, then */scenario.toml)"
    ));
    let error = expand_inputs(&[root.join("nothing")]).unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("nothing: No such file or directory"),
        "{error}"
    );
}

#[test]
fn a_scenario_directory_means_its_scenario_toml_alone() {
    let fixture = Fixture::new();
    let scenario = fixture.write("leak-x/scenario.toml", "");
    fixture.write("leak-x/expected.toml", "");
    assert_eq!(
        expand_inputs(&[fixture.dir.path().join("leak-x")]).unwrap(),
        vec![scenario]
    );
}

#[test]
fn array_element_of_wrong_type_is_named_with_its_key() {
    let fixture = Fixture::new();
    let message = fixture.load_err("[target]\ncommand = [\"node\", 5]\n[workload]\neval = \"1\"\n");
    assert_eq!(
        message,
        "2:20: [target] command[1]: expected a string, found integer `5`"
    );
}

#[test]
fn array_of_tables_where_a_table_belongs() {
    let fixture = Fixture::new();
    let text = format!("{GOOD_TARGET}[workload]\neval = \"1\"\n[[hunt]]\nwarmup = 1\n");
    assert_eq!(
        fixture.load_err(&text),
        "5:1: [hunt]: expected a table, found an array"
    );
}
