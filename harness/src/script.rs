//! The text of a script as sent to a test system, and the meaning of how it ended.
//!
//! Owns spread's script prefix (`set -eu`, the helpers MATCH, NOMATCH, ERROR, FATAL and REBOOT,
//! the exported environment, `set -x`), the `SPREAD_*` variables, the evaluation of
//! `$(HOST:...)` on this machine, and the decoding of the helpers' `<REBOOT key>`-style markers.
//! It does not run anything on a test system: backends do.

use std::collections::HashMap;
use std::process::Command;
use std::sync::Mutex;

/// Exit status the helpers use to tell the runner to look at the last output line.
pub const HELPER_EXIT_STATUS: i64 = 213;

/// Bash definitions of the helpers available to every script.
///
/// The messages match spread's, because suites grep for them (see spread's `match` and
/// `nomatch` checks). MATCH and NOMATCH run in a subshell so that `set +xu` stays local.
const HELPERS: &str = r#"REBOOT() { { set +xu; } 2> /dev/null; [ -z "${1:-}" ] && echo '<REBOOT>' || echo "<REBOOT $1>"; exit 213; }
ERROR() { { set +xu; } 2> /dev/null; [ -z "${1:-}" ] && echo '<ERROR>' || echo "<ERROR $*>"; exit 213; }
FATAL() { { set +xu; } 2> /dev/null; [ -z "${1:-}" ] && echo '<FATAL>' || echo "<FATAL $*>"; exit 213; }
MATCH() ( { set +xu; } 2> /dev/null; [ $# -gt 0 ] || { echo "error: missing regexp argument"; return 1; }; stdin="$(cat)"; grep -q -E "$@" <<< "$stdin" || { res=$?; printf 'grep error: pattern not found, got:\n%s\n' "$stdin" >&2; if [ $res != 1 ]; then echo "unexpected grep exit status: $res"; fi; return 1; }; )
NOMATCH() ( { set +xu; } 2> /dev/null; [ $# -gt 0 ] || { echo "error: missing regexp argument"; return 1; }; stdin="$(cat)"; if grep -q -E "$@" <<< "$stdin"; then printf "NOMATCH pattern='%s' found in:\n%s\n" "$*" "$stdin" >&2; return 1; fi; )
"#;

/// The fixed environment spread gives every script before the job's own variables.
const BASE_EXPORTS: &str = "export DEBIAN_FRONTEND=noninteractive\n\
export DEBIAN_PRIORITY=critical\n\
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/snap/bin\n";

/// How a script is to be run: traced scripts get `set -x` after the environment (so values,
/// which may hold secrets, are not traced); shells get the same prefix and then an
/// interactive bash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Trace,
    Shell,
}

/// Renders the complete bash program for `body`, run in `dir` with `env` exported in order.
///
/// Values are exported inside double quotes, unevaluated, so that they may reference earlier
/// variables and use `$(...)` on the test system; a value that starts with a quote is
/// exported as written (spread's rule).
pub fn render(body: &str, dir: &str, env: &[(String, String)], mode: Mode) -> String {
    let mut text = String::from("set -eu\n");
    if !dir.is_empty() {
        text.push_str(&format!("cd \"{dir}\"\n"));
    }
    text.push_str(HELPERS);
    text.push_str(BASE_EXPORTS);
    for (key, value) in env {
        text.push_str(&export_line(key, value));
    }
    match mode {
        Mode::Trace => {
            text.push_str("set -x\n");
            text.push_str(&format!("\n(\n{}\n) < /dev/null\n", body.trim()));
        }
        Mode::Shell => text.push_str("\nexec /bin/bash\n"),
    }
    text
}

fn export_line(key: &str, value: &str) -> String {
    if value.is_empty() || value.starts_with('"') || value.starts_with('\'') {
        format!("export {key}={value}\n")
    } else {
        format!("export {key}=\"{value}\"\n")
    }
}

/// The `SPREAD_*` variables of one job, in the order they are exported (before the job's own
/// environment, so that it can reference them).
#[derive(Debug, Clone, Default)]
pub struct SpreadVars {
    pub job: String,
    pub project: String,
    pub path: String,
    pub backend: String,
    pub system: String,
    pub suite: String,
    pub task: String,
    pub variant: String,
    pub sample: u32,
    pub backends: String,
}

impl SpreadVars {
    /// The variables as `(name, value)` pairs with `SPREAD_REBOOT` set to `reboot`.
    pub fn pairs(&self, reboot: &str) -> Vec<(String, String)> {
        [
            ("SPREAD_JOB", self.job.as_str()),
            ("SPREAD_PROJECT", &self.project),
            ("SPREAD_PATH", &self.path),
            ("SPREAD_BACKEND", &self.backend),
            ("SPREAD_SYSTEM", &self.system),
            ("SPREAD_SUITE", &self.suite),
            ("SPREAD_TASK", &self.task),
            ("SPREAD_VARIANT", &self.variant),
            ("SPREAD_SAMPLE", &self.sample.to_string()),
            ("SPREAD_REBOOT", reboot),
            ("SPREAD_BACKENDS", &self.backends),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), quote_literal(v)))
        .collect()
    }
}

/// How a script ended, as the helpers and the exit status tell it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    Success,
    /// A non-zero exit status not caused by a helper.
    Failed(i64),
    /// `REBOOT [key]`: restart the system and run the script again with `SPREAD_REBOOT=key`.
    Reboot(Option<String>),
    /// `ERROR [msg]`: the script failed with this message.
    Error(String),
    /// `FATAL [msg]`: the script failed and the system must not be used any further.
    Fatal(String),
}

/// Decodes the exit status and output of a script into an [`Ending`].
pub fn ending(exit_status: i64, output: &str) -> Ending {
    if exit_status == 0 {
        return Ending::Success;
    }
    if exit_status == HELPER_EXIT_STATUS
        && let Some((verb, argument)) = output.trim_end().lines().last().and_then(marker)
    {
        match verb {
            "REBOOT" => return Ending::Reboot(argument.map(str::to_owned)),
            "ERROR" => return Ending::Error(argument.unwrap_or_default().to_owned()),
            "FATAL" => return Ending::Fatal(argument.unwrap_or_default().to_owned()),
            _ => {}
        }
    }
    Ending::Failed(exit_status)
}

/// Parses `<VERB>` or `<VERB argument>`.
fn marker(line: &str) -> Option<(&str, Option<&str>)> {
    let inner = line.strip_prefix('<')?.strip_suffix('>')?;
    let (verb, argument) = match inner.split_once(' ') {
        Some((verb, argument)) => (verb, Some(argument)),
        None => (inner, None),
    };
    let is_verb = !verb.is_empty() && verb.bytes().all(|b| b.is_ascii_uppercase() || b == b'_');
    is_verb.then_some((verb, argument))
}

/// Output without a helper's trailing marker line, for display.
pub fn without_marker(output: &str) -> &str {
    let trimmed = output.trim_end();
    match trimmed.rsplit_once('\n') {
        Some((before, last)) if marker(last).is_some() => before,
        None if marker(trimmed).is_some() => "",
        _ => trimmed,
    }
}

/// Escapes `value` so that, inside double quotes in bash, it stays literal.
fn quote_literal(value: &str) -> String {
    let mut quoted = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted
}

/// A `$(HOST:...)` in the value of `variable` could not be evaluated on this machine.
#[derive(Debug, thiserror::Error)]
#[error("cannot evaluate $(HOST:...) in {variable}, command `{command}`: {failure}")]
pub struct HostError {
    pub variable: String,
    pub command: String,
    pub failure: HostFailure,
}

/// Why a `$(HOST:...)` command gave no output.
#[derive(Debug, thiserror::Error)]
pub enum HostFailure {
    #[error("the command has no closing parenthesis")]
    Unclosed,
    #[error("cannot run /bin/bash: {0}")]
    Spawn(std::io::Error),
    #[error("bash ended with {status}{}", stderr_note(.stderr))]
    Exited {
        status: std::process::ExitStatus,
        stderr: String,
    },
}

/// Standard error on one line, as spread shows it (lines joined by `; `).
fn stderr_note(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        String::new()
    } else {
        format!(", stderr: {}", lines.join("; "))
    }
}

/// A piece of an environment value: text as written, or the command of a `$(HOST:...)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Host(&'a str),
}

/// Cuts `value` (of `variable`, for errors) at its `$(HOST:...)` commands, so that callers
/// can treat the text between them their own way (quoted for scripts, `$VAR`-expanded for the
/// project keys used on the host) without ever looking inside a command.
pub fn host_pieces<'a>(variable: &str, value: &'a str) -> Result<Vec<Piece<'a>>, HostError> {
    let mut pieces = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find("$(HOST:") {
        if start > 0 {
            pieces.push(Piece::Text(&rest[..start]));
        }
        let after = &rest[start + "$(HOST:".len()..];
        let end = closing_paren(after).ok_or_else(|| HostError {
            variable: variable.to_owned(),
            command: after.to_owned(),
            failure: HostFailure::Unclosed,
        })?;
        pieces.push(Piece::Host(&after[..end]));
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    Ok(pieces)
}

/// Evaluates `$(HOST:cmd)` with bash on this machine, once per distinct command per run
/// (suites repeat the same commands in thousands of jobs, and the project keys used on the
/// host must see the same output as the scripts, as in spread).
#[derive(Debug, Default)]
pub struct HostEvaluator {
    cache: Mutex<HashMap<String, String>>,
}

impl HostEvaluator {
    /// Returns `env` with every `$(HOST:...)` replaced by the command's output, quoted so that
    /// the test system does not evaluate it again.
    pub fn evaluate(&self, env: &[(String, String)]) -> Result<Vec<(String, String)>, HostError> {
        env.iter()
            .map(|(key, value)| Ok((key.clone(), self.evaluate_value(key, value)?)))
            .collect()
    }

    fn evaluate_value(&self, variable: &str, value: &str) -> Result<String, HostError> {
        let mut result = String::new();
        for piece in host_pieces(variable, value)? {
            match piece {
                Piece::Text(text) => result.push_str(text),
                Piece::Host(command) => {
                    result.push_str(&quote_literal(&self.output(variable, command)?));
                }
            }
        }
        Ok(result)
    }

    /// The standard output of `command` (found in the value of `variable`) without its
    /// trailing newlines, spread's rule; run at most once per run.
    pub fn output(&self, variable: &str, command: &str) -> Result<String, HostError> {
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(output) = cache.get(command) {
            return Ok(output.clone());
        }
        let failure = |failure: HostFailure| HostError {
            variable: variable.to_owned(),
            command: command.to_owned(),
            failure,
        };
        let output = Command::new("/bin/bash")
            .arg("-c")
            .arg(command)
            .output()
            .map_err(|e| failure(HostFailure::Spawn(e)))?;
        if !output.status.success() {
            return Err(failure(HostFailure::Exited {
                status: output.status,
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            }));
        }
        let text = String::from_utf8_lossy(&output.stdout)
            .trim_end_matches('\n')
            .to_owned();
        cache.insert(command.to_owned(), text.clone());
        Ok(text)
    }
}

/// Index of the parenthesis closing an already opened `$(`, honouring nested parentheses.
fn closing_paren(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (index, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return Some(index),
            ')' => depth -= 1,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bash(program: &str) -> (i32, String) {
        let output = Command::new("/bin/bash")
            .arg("-c")
            .arg(format!("exec 2>&1\n{program}"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        (output.status.code().unwrap(), text)
    }

    fn run(body: &str, env: &[(&str, &str)]) -> (i32, String) {
        let env: Vec<_> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        bash(&render(body, "/", &env, Mode::Trace))
    }

    #[test]
    fn values_reference_earlier_variables_and_quoted_values_stay_literal() {
        let (status, output) = run(
            "echo \"$B|$C\"",
            &[("A", "one"), ("B", "$A two"), ("C", "'$A'")],
        );
        assert_eq!(status, 0, "{output}");
        assert!(output.contains("one two|$A"), "{output}");
    }

    #[test]
    fn errors_stop_the_script_and_commands_are_traced() {
        let (status, output) = run("echo before\nfalse\necho after", &[]);
        assert_eq!(status, 1);
        assert!(output.contains("+ echo before"), "{output}");
        assert!(!output.contains("\nafter"), "{output}");
    }

    #[test]
    fn match_reports_what_it_read_on_failure() {
        let (status, output) = run("printf 'foo\\nbar\\n' | MATCH baz", &[]);
        assert_eq!(status, 1);
        assert!(
            output.contains("grep error: pattern not found, got:\nfoo\nbar"),
            "{output}"
        );
        let (status, output) = run("printf 'foo\\nbar\\n' | MATCH '^ba(r|z)$'", &[]);
        assert_eq!(status, 0, "{output}");
    }

    #[test]
    fn nomatch_reports_the_pattern_and_input() {
        let (status, output) = run("printf 'a\\nerror\\n' | NOMATCH error", &[]);
        assert_eq!(status, 1);
        assert!(
            output.contains("NOMATCH pattern='error' found in:\na\nerror"),
            "{output}"
        );
        let (status, _) = run("echo fine | NOMATCH error", &[]);
        assert_eq!(status, 0);
    }

    #[test]
    fn helpers_end_with_markers_the_runner_decodes() {
        let (status, output) = run("REBOOT foo", &[]);
        assert_eq!(
            ending(status.into(), &output),
            Ending::Reboot(Some("foo".into()))
        );
        let (status, output) = run("REBOOT", &[]);
        assert_eq!(ending(status.into(), &output), Ending::Reboot(None));
        let (status, output) = run("ERROR went wrong", &[]);
        assert_eq!(
            ending(status.into(), &output),
            Ending::Error("went wrong".into())
        );
        let (status, output) = run("FATAL broken", &[]);
        assert_eq!(
            ending(status.into(), &output),
            Ending::Fatal("broken".into())
        );
        assert_eq!(ending(213, "no marker"), Ending::Failed(213));
        assert_eq!(without_marker("a\nb\n<REBOOT x>\n"), "a\nb");
    }

    #[test]
    fn spread_vars_come_first_and_are_literal() {
        let vars = SpreadVars {
            job: "d:s:x/y".into(),
            path: "/p$x".into(),
            ..Default::default()
        };
        let env = vars.pairs("2");
        let (status, output) = run(
            "echo \"$SPREAD_PATH $SPREAD_REBOOT $SPREAD_JOB\"",
            &env.iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
        );
        assert_eq!(status, 0, "{output}");
        assert!(output.contains("/p$x 2 d:s:x/y"), "{output}");
    }

    #[test]
    fn host_commands_run_here_once_and_their_output_is_literal() {
        let evaluator = HostEvaluator::default();
        let env = vec![
            (
                "A".to_string(),
                "x-$(HOST: echo '$HOME' \"$((1+2))\")-y".to_string(),
            ),
            ("B".to_string(), "plain".to_string()),
            // Only trailing newlines go, as in spread.
            ("C".to_string(), "$(HOST:printf ' c \\n\\n')".to_string()),
        ];
        let evaluated = evaluator.evaluate(&env).unwrap();
        assert_eq!(evaluated[0].1, "x-\\$HOME 3-y");
        assert_eq!(evaluated[1].1, "plain");
        assert_eq!(evaluated[2].1, " c ");
        let counter = tempfile::NamedTempFile::new().unwrap();
        let counting = format!("echo x >> {0}; wc -l < {0}", counter.path().display());
        assert_eq!(evaluator.output("D", &counting).unwrap(), "1");
        assert_eq!(evaluator.output("E", &counting).unwrap(), "1");
    }

    #[test]
    fn a_failing_host_command_names_the_variable_the_command_and_its_stderr() {
        let evaluator = HostEvaluator::default();
        let error = evaluator
            .evaluate(&[(
                "C".into(),
                "$(HOST:echo one >&2; echo two >&2; exit 3)".into(),
            )])
            .unwrap_err();
        insta::assert_snapshot!(error, @"cannot evaluate $(HOST:...) in C, command `echo one >&2; echo two >&2; exit 3`: bash ended with exit status: 3, stderr: one; two");
        let error = evaluator
            .evaluate(&[("D".into(), "a $(HOST:echo (x)".into())])
            .unwrap_err();
        insta::assert_snapshot!(error, @"cannot evaluate $(HOST:...) in D, command `echo (x)`: the command has no closing parenthesis");
    }

    #[test]
    fn host_pieces_leave_commands_whole() {
        assert_eq!(
            host_pieces("V", "a$B-$(HOST:echo $(date) $X)c").unwrap(),
            [
                Piece::Text("a$B-"),
                Piece::Host("echo $(date) $X"),
                Piece::Text("c")
            ]
        );
        assert_eq!(host_pieces("V", "").unwrap(), []);
    }
}
