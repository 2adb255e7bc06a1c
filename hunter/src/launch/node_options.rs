//! NODE_OPTIONS and node argv rewriting: every Node process of the tree gets
//! `--inspect=127.0.0.1:0 --require <agent>`, and no flag of the user's may move an inspector
//! to another interface or a fixed port.

use std::path::Path;

/// Splits NODE_OPTIONS the way Node does: words separated by spaces; double quotes group words,
/// and inside quotes a backslash escapes the next character.
pub(crate) fn split(node_options: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quoted = false;
    let mut chars = node_options.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quoted => {
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            '"' => {
                quoted = !quoted;
                in_word = true;
            }
            ' ' | '\t' | '\n' if !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            other => {
                word.push(other);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// Quotes one word so that [`split`] (and Node) reads it back unchanged.
pub(crate) fn quote(word: &str) -> String {
    if !word.is_empty() && !word.contains([' ', '\t', '\n', '"', '\\']) {
        return word.to_string();
    }
    let mut quoted = String::from("\"");
    for c in word.chars() {
        if c == '"' || c == '\\' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

/// True for flags that open or move an inspector, or hide its `/json` endpoints.
fn is_inspector_flag(word: &str) -> bool {
    let name = word.split('=').next().unwrap_or(word);
    matches!(
        name,
        "--inspect"
            | "--inspect-brk"
            | "--inspect-wait"
            | "--inspect-port"
            | "--debug-port"
            | "--inspect-publish-uid"
            | "--inspect-brk-node"
    )
}

/// Flags whose value may be the next word (`--inspect-port 9229`).
fn takes_separate_value(word: &str) -> bool {
    matches!(
        word,
        "--inspect-port" | "--debug-port" | "--inspect-publish-uid"
    )
}

/// Removes inspector flags from a list of Node options; returns what was removed.
fn strip_inspector_flags(words: Vec<String>) -> (Vec<String>, Vec<String>) {
    let mut kept = Vec::new();
    let mut removed = Vec::new();
    let mut words = words.into_iter().peekable();
    while let Some(word) = words.next() {
        if is_inspector_flag(&word) {
            if takes_separate_value(&word) {
                if let Some(value) = words.next_if(|next| !next.starts_with('-')) {
                    removed.push(format!("{word} {value}"));
                    continue;
                }
            }
            removed.push(word);
        } else {
            kept.push(word);
        }
    }
    (kept, removed)
}

/// The NODE_OPTIONS for the target: the user's options without inspector flags, then hunter's.
/// Returns the value and the user flags that were dropped (to warn about).
pub(crate) fn compose(user: Option<&str>, agent: &Path) -> (String, Vec<String>) {
    let (mut words, removed) = strip_inspector_flags(split(user.unwrap_or("")));
    words.iter_mut().for_each(|word| *word = quote(word));
    words.push("--inspect=127.0.0.1:0".to_string());
    words.push("--require".to_string());
    words.push(quote(&agent.to_string_lossy()));
    (words.join(" "), removed)
}

/// True when `program` is the node binary itself (`node`, `/usr/bin/node`, `nodejs`).
pub(crate) fn is_node_program(program: &str) -> bool {
    let name = Path::new(program)
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("");
    name == "node" || name == "nodejs" || name == "node.exe"
}

/// For a `node …` command, removes inspector flags placed before the script (they would beat
/// NODE_OPTIONS). Returns the new argv and what was dropped.
pub(crate) fn strip_from_node_argv(command: &[String]) -> (Vec<String>, Vec<String>) {
    if command.is_empty() || !is_node_program(&command[0]) {
        return (command.to_vec(), Vec::new());
    }
    const VALUE_FLAGS: [&str; 10] = [
        "-r",
        "--require",
        "--import",
        "--loader",
        "--experimental-loader",
        "-e",
        "--eval",
        "-p",
        "--print",
        "--env-file",
    ];
    let mut end = command.len();
    let mut index = 1;
    while index < command.len() {
        let word = &command[index];
        if !word.starts_with('-') || word == "-" || word == "--" {
            end = index;
            break;
        }
        if VALUE_FLAGS.contains(&word.as_str()) || takes_separate_value(word) {
            index += 1;
        }
        index += 1;
    }
    let (options, removed) = strip_inspector_flags(command[1..end].to_vec());
    let mut argv = vec![command[0].clone()];
    argv.extend(options);
    argv.extend(command[end..].iter().cloned());
    (argv, removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_follows_node_quoting() {
        assert_eq!(
            split(r#" --max-old-space-size=100  --require "/a b/c \"d\".js" -r x"#),
            [
                "--max-old-space-size=100",
                "--require",
                "/a b/c \"d\".js",
                "-r",
                "x"
            ]
        );
        assert!(split("   ").is_empty());
    }

    #[test]
    fn quote_round_trips() {
        for word in ["plain", "/with space/x.js", r#"q"uo\te"#, ""] {
            assert_eq!(split(&quote(word)), [word]);
        }
    }

    #[test]
    fn compose_drops_user_inspector_flags_and_adds_ours() {
        let (value, removed) = compose(
            Some(
                "--inspect=0.0.0.0:9229 --max-old-space-size=64 --inspect-port 9300 --inspect-brk",
            ),
            Path::new("/tmp/h x/agent.js"),
        );
        assert_eq!(
            value,
            r#"--max-old-space-size=64 --inspect=127.0.0.1:0 --require "/tmp/h x/agent.js""#
        );
        assert_eq!(
            removed,
            [
                "--inspect=0.0.0.0:9229",
                "--inspect-port 9300",
                "--inspect-brk"
            ]
        );
        assert_eq!(
            split(&value),
            [
                "--max-old-space-size=64",
                "--inspect=127.0.0.1:0",
                "--require",
                "/tmp/h x/agent.js"
            ]
        );
    }

    #[test]
    fn node_argv_loses_inspector_flags_before_the_script_only() {
        let argv: Vec<String> = [
            "/usr/bin/node",
            "--inspect=9229",
            "-r",
            "x",
            "app.js",
            "--inspect",
        ]
        .map(String::from)
        .into();
        let (argv, removed) = strip_from_node_argv(&argv);
        assert_eq!(argv, ["/usr/bin/node", "-r", "x", "app.js", "--inspect"]);
        assert_eq!(removed, ["--inspect=9229"]);
        let npm: Vec<String> = ["npm", "--inspect", "start"].map(String::from).into();
        assert_eq!(strip_from_node_argv(&npm).0, npm);
    }
}
