//! The argument vector an app is started with: each `command-chain` entry, then the app's
//! `command` split into words like a shell would (no expansion), then the caller's arguments.
//! Relative paths are relative to the snap's directory.

use std::ffi::OsString;
use std::path::Path;

/// Why an app's command could not be turned into an argument vector.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(
        "the command {command:?} of app \"{app}\" has unbalanced quotes or a trailing backslash"
    )]
    Unparsable { app: String, command: String },
    #[error("app \"{app}\" has an empty command")]
    Empty { app: String },
}

/// `chain` entries and the first word of `command` become paths under `snap` unless absolute.
pub fn argv(
    snap: &Path,
    app: &str,
    command: &str,
    chain: &[String],
    args: impl IntoIterator<Item = OsString>,
) -> Result<Vec<OsString>, CommandError> {
    let words = shlex::split(command).ok_or_else(|| CommandError::Unparsable {
        app: app.to_owned(),
        command: command.to_owned(),
    })?;
    let (program, program_args) = words.split_first().ok_or_else(|| CommandError::Empty {
        app: app.to_owned(),
    })?;
    let under_snap = |entry: &str| snap.join(entry).into_os_string();
    Ok(chain
        .iter()
        .map(|entry| under_snap(entry))
        .chain(std::iter::once(under_snap(program)))
        .chain(program_args.iter().map(OsString::from))
        .chain(args)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_then_command_then_arguments() {
        let argv = argv(
            Path::new("/snap/db/x1"),
            "db",
            "usr/bin/memcached -u daemon -l '127.0.0.1'",
            &["bin/wrapper".into(), "/usr/bin/env".into()],
            ["-p".into(), "11211".into()],
        )
        .expect("argv");
        assert_eq!(
            argv,
            [
                "/snap/db/x1/bin/wrapper",
                "/usr/bin/env",
                "/snap/db/x1/usr/bin/memcached",
                "-u",
                "daemon",
                "-l",
                "127.0.0.1",
                "-p",
                "11211"
            ]
            .map(OsString::from)
        );
    }

    #[test]
    fn unbalanced_quotes_name_the_app_and_the_command() {
        let error = argv(Path::new("/snap/a/x1"), "a", "bin/a 'oops", &[], []).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the command \"bin/a 'oops\" of app \"a\" has unbalanced quotes or a trailing backslash"
        );
    }

    #[test]
    fn an_empty_command_is_refused() {
        let error = argv(Path::new("/snap/a/x1"), "a", "  ", &[], []).unwrap_err();
        assert_eq!(error.to_string(), "app \"a\" has an empty command");
    }
}
