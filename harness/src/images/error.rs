//! Everything that can go wrong while finding, planning or building an image, each error
//! carrying what a user needs to fix it.

use std::path::PathBuf;

/// An image could not be provided.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error(
        "the Docker engine does not answer ({source}); start it (`systemctl start docker`, or run \
         `dockerd &`) or install it (`apt-get install docker.io`)"
    )]
    DockerUnreachable {
        #[source]
        source: bollard::errors::Error,
    },

    #[error(
        "`mmdebstrap` is not installed, and image {image} needs it to build its root file \
         system: run `apt-get install mmdebstrap`"
    )]
    MmdebstrapMissing { image: String },

    #[error("no image recipe {}{}", .file.display(), known_list(.known))]
    UnknownImage {
        name: String,
        file: PathBuf,
        known: Vec<String>,
    },

    #[error("`{name}` is not a valid image name: {reason}")]
    BadName { name: String, reason: String },

    #[error("{}{}: {message}", .file.display(), .line.map(|l| format!(":{l}")).unwrap_or_default())]
    Recipe {
        file: PathBuf,
        line: Option<usize>,
        message: String,
    },

    #[error("image recipes build on each other in a cycle: {}", .chain.join(" -> "))]
    Cycle { chain: Vec<String> },

    #[error("{}: `copy` src {} cannot be read ({source}): {hint}", .recipe.display(), .src.display())]
    MissingInput {
        recipe: PathBuf,
        src: PathBuf,
        hint: String,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "image {image}: `mmdebstrap` failed ({status}); its last output:\n{output}\nCheck that \
         the mirror is reachable and the packages exist in that suite"
    )]
    Mmdebstrap {
        image: String,
        status: String,
        output: String,
    },

    #[error(
        "image {image}: `run` step {step} of {} failed with exit status {status}; its last \
         output:\n{output}",
        .recipe.display()
    )]
    RunStep {
        image: String,
        recipe: PathBuf,
        step: usize,
        status: i64,
        output: String,
    },

    #[error("image {image}: Docker refused to {action}: {source}")]
    Docker {
        image: String,
        action: String,
        #[source]
        source: bollard::errors::Error,
    },

    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        String::new()
    } else {
        format!("; the recipes are: {}", known.join(", "))
    }
}
