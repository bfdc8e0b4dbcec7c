//! A long-lived bash in the container that runs scripts sent over its standard input, so that
//! a script costs one `fork` in the container instead of one engine `exec` (a runc process
//! start, tens of milliseconds).
//!
//! Protocol: the harness writes `TAG LENGTH\n` and then LENGTH bytes of script; the agent runs
//! the script with `HARNESS_RUN_TAG=TAG` in a fresh bash (reading it from a pipe, so no
//! command-line length limit applies) whose output goes to the agent's output, then prints `\n<<<TOKEN TAG STATUS\n`. TOKEN is random per agent, so script output
//! cannot fake the end marker.

use std::pin::Pin;

use bollard::container::LogOutput;
use futures_util::{Stream, StreamExt};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::backend::Output;

/// The agent's program; `$1` is its token.
pub const PROGRAM: &str = r#"while IFS= read -r header; do
  tag=${header%% *}; length=${header##* }
  LC_ALL=C IFS= read -r -N "$length" script || exit 0
  HARNESS_RUN_TAG=$tag /bin/bash -s < <(printf '%s' "$script") 2>&1
  printf '\n<<<%s %s %s\n' "$1" "$tag" "$?"
done"#;

type OutputStream = Pin<Box<dyn Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>>;
type InputSink = Pin<Box<dyn AsyncWrite + Send>>;

/// One running agent.
pub struct Agent {
    token: String,
    input: InputSink,
    output: OutputStream,
}

/// The agent's stream ended before the script's end marker (the container stopped).
#[derive(Debug)]
pub struct Lost;

impl Agent {
    pub fn new(token: String, input: InputSink, output: OutputStream) -> Self {
        Agent {
            token,
            input,
            output,
        }
    }

    /// Runs `script`, appending its output (without the end marker) to `output`; returns the
    /// exit status.
    pub async fn run(&mut self, script: &str, tag: &str, output: &Output) -> Result<i64, Lost> {
        let request = format!("{tag} {}\n{script}", script.len());
        self.input
            .write_all(request.as_bytes())
            .await
            .map_err(|_| Lost)?;
        self.input.flush().await.map_err(|_| Lost)?;
        let marker = format!("\n<<<{} {tag} ", self.token);
        let mut pending: Vec<u8> = Vec::new();
        while let Some(item) = self.output.next().await {
            let Ok(item) = item else { return Err(Lost) };
            pending.extend_from_slice(&item.into_bytes());
            if let Some(at) = find(&pending, marker.as_bytes()) {
                let rest = &pending[at + marker.len()..];
                if let Some(end) = rest.iter().position(|&b| b == b'\n') {
                    let status = String::from_utf8_lossy(&rest[..end])
                        .trim()
                        .parse()
                        .unwrap_or(-1);
                    output.append(&pending[..at]);
                    return Ok(status);
                }
                continue;
            }
            // Keep back what could be the start of the marker; show the rest now.
            let keep = pending.len().min(marker.len() + 24);
            let shown = pending.len() - keep;
            output.append(&pending[..shown]);
            pending.drain(..shown);
        }
        Err(Lost)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
