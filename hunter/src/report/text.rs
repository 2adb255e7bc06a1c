//! Text helpers shared by the human, Markdown and JUnit renderings: byte sizes in binary units,
//! signed growth, durations, commands, and retainer paths shortened to a width by eliding their
//! middle (both ends are what a reader needs: the GC root and the leaking object).

use super::model::{ProcessReport, Role};

/// `512 B`, `3.1 KiB`, `12.0 MiB`, `1.20 GiB`.
pub fn bytes(value: f64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    let magnitude = value.abs();
    if magnitude < 1024.0 {
        return format!("{} B", round_half(value));
    }
    let mut scaled = value / 1024.0;
    let mut unit = 0;
    while scaled.abs() >= 1024.0 && unit + 1 < UNITS.len() {
        scaled /= 1024.0;
        unit += 1;
    }
    if scaled.abs() < 10.0 && unit >= 2 {
        format!("{scaled:.2} {}", UNITS[unit])
    } else {
        format!("{scaled:.1} {}", UNITS[unit])
    }
}

/// Growth in bytes with an explicit sign: `+3.1 KiB`, `-200 B`, `+0 B`.
pub fn signed_bytes(value: f64) -> String {
    if value < 0.0 {
        bytes(value)
    } else {
        format!("+{}", bytes(value))
    }
}

/// Growth in objects with an explicit sign, whole numbers without decimals: `+40`, `+2.5`.
pub(crate) fn signed_count(value: f64) -> String {
    let sign = if value < 0.0 { "" } else { "+" };
    if (value - value.round()).abs() < 0.05 {
        format!("{sign}{}", value.round() as i64)
    } else {
        format!("{sign}{value:.1}")
    }
}

fn round_half(value: f64) -> i64 {
    value.round() as i64
}

/// `850 ms`, `4.2 s`, `3 min 05 s`.
pub(crate) fn duration_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        let seconds = ms / 1000;
        format!("{} min {:02} s", seconds / 60, seconds % 60)
    }
}

/// An argv as a shell-like line; arguments with spaces or quotes are quoted.
pub(crate) fn command_line(argv: &[String]) -> String {
    argv.iter()
        .map(|arg| {
            if arg.is_empty()
                || arg
                    .chars()
                    .any(|c| c.is_whitespace() || c == '"' || c == '\'')
            {
                format!("'{}'", arg.replace('\'', r"'\''"))
            } else {
                arg.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A command with each path cut to its file name (`node /srv/app/child.js` → `node child.js`):
/// in a summary line the script's name is what tells processes apart, and a long directory
/// would push it out of the column. Options (`--x=/a/b`) are kept whole.
pub fn short_command(argv: &[String]) -> Vec<String> {
    argv.iter()
        .map(|word| match word.rsplit_once('/') {
            Some((_, name)) if !name.is_empty() && !word.starts_with('-') => name.to_owned(),
            _ => word.clone(),
        })
        .collect()
}

/// How a process is named to a reader: its command, and for a worker its script too.
pub(crate) fn process_label(process: &ProcessReport) -> String {
    label(process, command_line(&process.command))
}

/// [`process_label`] with paths cut to file names, for the human summary's one line per process.
pub(crate) fn short_process_label(process: &ProcessReport) -> String {
    let label = label(process, command_line(&short_command(&process.command)));
    let url = process
        .url
        .as_deref()
        .map(|u| u.strip_prefix("file://").unwrap_or(u));
    match url.and_then(|url| url.rsplit_once('/')) {
        Some((dir, _)) if process.role == Role::Worker => label.replace(&format!("{dir}/"), ""),
        _ => label,
    }
}

fn label(process: &ProcessReport, command: String) -> String {
    match (
        process.role,
        process.title.as_deref(),
        process.url.as_deref(),
    ) {
        (Role::Worker, _, Some(url)) if !url.is_empty() => {
            let script = url.strip_prefix("file://").unwrap_or(url);
            format!("{script} in {command}")
        }
        (Role::Worker, Some(title), _) if !title.is_empty() => format!("{title} in {command}"),
        _ => command,
    }
}

/// Shortens `text` to at most `width` characters by replacing its middle with `…`.
pub(crate) fn elide_middle(text: &str, width: usize) -> String {
    let length = text.chars().count();
    if length <= width {
        return text.to_string();
    }
    if width <= 1 {
        return "…".chars().take(width).collect();
    }
    let keep = width - 1;
    let head = keep.div_ceil(2);
    let tail = keep - head;
    let start: String = text.chars().take(head).collect();
    let end: String = text.chars().skip(length - tail).collect();
    format!("{start}…{end}")
}

/// Shortens `text` to at most `width` characters by cutting its end with `…`.
pub(crate) fn elide_end(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut kept: String = text.chars().take(width.saturating_sub(1)).collect();
    kept.push('…');
    kept
}

/// The separator between retainer path steps.
pub(crate) const ARROW: &str = " → ";

/// A retainer path without V8's plumbing, for people: the hops into a closure's context, a
/// Map's hash table or an array's backing store say nothing the steps around them do not
/// (`handler() → inFlight (context) → Map → PendingRequest` reads better with `context
/// (internal) → system / Context` and `table (internal) → (array) → 440 (internal)` left out).
/// The first and last steps are always kept. The JSON report keeps every step.
pub(crate) fn readable_steps(steps: &[String]) -> Vec<String> {
    let plumbing = |step: &str| {
        matches!(
            step,
            "context (internal)"
                | "system / Context"
                | "table (internal)"
                | "(array)"
                | "elements (internal)"
                | "(object elements)"
                | "properties (internal)"
                | "(object properties)"
        ) || step
            .strip_suffix(" (internal)")
            .is_some_and(|index| index.bytes().all(|b| b.is_ascii_digit()))
    };
    let last = steps.len().saturating_sub(1);
    steps
        .iter()
        .enumerate()
        .filter(|&(i, step)| i == 0 || i == last || !plumbing(step))
        .map(|(_, step)| {
            // V8 names the global object `global / <url>`, with no URL in Node.
            step.strip_suffix(" / ").unwrap_or(step).to_owned()
        })
        .collect()
}

/// Renders a retainer path as `a → b → c` in at most `width` characters.
///
/// Both ends are always kept (the root and the leaking object); steps are dropped from the
/// middle, replaced by a single `…`, preferring the steps next to the object (they name the
/// collection that holds it). A single step longer than a third of the width (a long string
/// value, say) is itself shortened in its middle.
pub(crate) fn retainer_path(steps: &[String], width: usize) -> String {
    if steps.is_empty() {
        return String::new();
    }
    let steps = &readable_steps(steps);
    let full = steps.join(ARROW);
    if full.chars().count() <= width {
        return full;
    }
    let step_width = (width / 3).max(8);
    let steps: Vec<String> = steps.iter().map(|s| elide_middle(s, step_width)).collect();
    let full = steps.join(ARROW);
    if full.chars().count() <= width || steps.len() <= 2 {
        return elide_middle(&full, width.max(1));
    }
    let arrow = ARROW.chars().count();
    let width_of = |s: &String| s.chars().count();
    // Always: first → … → last.
    let mut front = 1;
    let mut back = 1;
    let mut used = width_of(&steps[0]) + arrow + 1 + arrow + width_of(&steps[steps.len() - 1]);
    // Grow from the back first, then the front, while it fits and something is still elided.
    loop {
        let middle_left = steps.len() - front - back;
        if middle_left == 0 {
            break;
        }
        let next_back = &steps[steps.len() - back - 1];
        let extra_back = width_of(next_back) + arrow;
        // Taking the last hidden step removes the need for the ellipsis.
        let saves = if middle_left == 1 { 1 + arrow } else { 0 };
        if used + extra_back - saves <= width {
            used = used + extra_back - saves;
            back += 1;
            continue;
        }
        let next_front = &steps[front];
        let extra_front = width_of(next_front) + arrow;
        if used + extra_front - saves <= width {
            used = used + extra_front - saves;
            front += 1;
            continue;
        }
        break;
    }
    if front + back >= steps.len() {
        return steps.join(ARROW);
    }
    let mut parts: Vec<&str> = steps[..front].iter().map(String::as_str).collect();
    parts.push("…");
    parts.extend(steps[steps.len() - back..].iter().map(String::as_str));
    let joined = parts.join(ARROW);
    if joined.chars().count() <= width {
        joined
    } else {
        elide_middle(&joined, width)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn short_labels_name_scripts_not_directories() {
        let mut child = ProcessReport::new(
            4250,
            Role::Child,
            ["node", "/srv/app/child.js", "--config=/etc/app.json"]
                .map(String::from)
                .to_vec(),
            crate::report::Verdict::Clean,
        );
        assert_eq!(
            short_process_label(&child),
            "node child.js --config=/etc/app.json"
        );
        child.role = Role::Worker;
        child.url = Some("file:///srv/app/render-worker.js".into());
        assert_eq!(
            short_process_label(&child),
            "render-worker.js in node child.js --config=/etc/app.json"
        );
    }

    #[test]
    fn readable_steps_leave_out_v8_plumbing_but_keep_both_ends() {
        let steps: Vec<String> = [
            "global / ",
            "request (property)",
            "(anonymous)()",
            "context (internal)",
            "system / Context",
            "inFlight (context)",
            "Map",
            "table (internal)",
            "(array)",
            "440 (internal)",
            "PendingRequest",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            readable_steps(&steps),
            [
                "global",
                "request (property)",
                "(anonymous)()",
                "inFlight (context)",
                "Map",
                "PendingRequest"
            ]
        );
        let object_is_plumbing_named: Vec<String> =
            ["(GC roots)", "(array)"].map(String::from).to_vec();
        assert_eq!(
            readable_steps(&object_is_plumbing_named),
            ["(GC roots)", "(array)"]
        );
    }

    use super::*;

    fn steps(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn bytes_use_binary_units() {
        assert_eq!(bytes(0.0), "0 B");
        assert_eq!(bytes(1023.0), "1023 B");
        assert_eq!(bytes(3200.0), "3.1 KiB");
        assert_eq!(bytes(12.0 * 1024.0 * 1024.0), "12.0 MiB");
        assert_eq!(bytes(1.2 * 1024.0 * 1024.0 * 1024.0), "1.20 GiB");
        assert_eq!(signed_bytes(3200.0), "+3.1 KiB");
        assert_eq!(signed_bytes(-200.0), "-200 B");
        assert_eq!(signed_count(40.0), "+40");
        assert_eq!(signed_count(2.5), "+2.5");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_ms(850), "850 ms");
        assert_eq!(duration_ms(4210), "4.2 s");
        assert_eq!(duration_ms(185_000), "3 min 05 s");
    }

    #[test]
    fn commands_quote_arguments_with_spaces() {
        assert_eq!(
            command_line(&steps(&["node", "my server.js", "--x"])),
            "node 'my server.js' --x"
        );
    }

    #[test]
    fn short_retainer_path_is_kept_whole() {
        let path = steps(&["(GC roots)", "traces (property)", "RequestTrace"]);
        assert_eq!(
            retainer_path(&path, 100),
            "(GC roots) → traces (property) → RequestTrace"
        );
    }

    #[test]
    fn long_retainer_path_keeps_both_ends_and_elides_the_middle() {
        let mut path = steps(&["(GC roots)"]);
        for i in 0..30 {
            path.push(format!("step{i} (property)"));
        }
        path.push("[119] (element)".into());
        path.push("RequestTrace".into());
        let shown = retainer_path(&path, 60);
        assert!(shown.chars().count() <= 60, "{shown}");
        assert!(shown.starts_with("(GC roots) → "), "{shown}");
        assert!(
            shown.ends_with(" → [119] (element) → RequestTrace"),
            "{shown}"
        );
        assert!(shown.contains(" → … → "), "{shown}");
    }

    #[test]
    fn a_huge_step_is_shortened_itself() {
        let path = steps(&["(GC roots)", &"x".repeat(500), "Leaky"]);
        let shown = retainer_path(&path, 50);
        assert!(shown.chars().count() <= 50, "{shown}");
        assert!(shown.starts_with("(GC roots) → "), "{shown}");
        assert!(shown.ends_with(" → Leaky"), "{shown}");
    }
}
