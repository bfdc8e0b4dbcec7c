//! spread's final summary: `Successful tasks: N`, `Aborted tasks: N`, then every non-empty
//! failure list as `Title: N` followed by one `    - name` line per entry, sorted.

use crate::runner::Summary;

/// The summary as lines (the first line of a list carries its names after newlines).
pub fn lines(summary: &Summary) -> Vec<String> {
    let mut lines = vec![
        format!("Successful tasks: {}", summary.successful.len()),
        format!("Aborted tasks: {}", summary.aborted.len()),
    ];
    for (title, names) in summary.failures() {
        let mut names = names.to_vec();
        names.sort();
        names.dedup();
        if names.is_empty() {
            continue;
        }
        let mut line = format!("{title}: {}", names.len());
        for name in names {
            line.push_str("\n    - ");
            line.push_str(&name);
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_listed_with_names_and_empty_lists_are_left_out() {
        let summary = Summary {
            successful: vec!["a".into(), "b".into()],
            aborted: vec!["c".into()],
            failed: vec!["docker:debian-12:x/z".into(), "docker:debian-12:x/y".into()],
            failed_task_restore: vec!["docker:debian-12:x/y".into()],
            failed_project_prepare: vec!["docker:debian-12".into(), "docker:debian-12".into()],
            ..Default::default()
        };
        insta::assert_snapshot!(lines(&summary).join("\n"), @r"
        Successful tasks: 2
        Aborted tasks: 1
        Failed tasks: 2
            - docker:debian-12:x/y
            - docker:debian-12:x/z
        Failed task restore: 1
            - docker:debian-12:x/y
        Failed project prepare: 1
            - docker:debian-12
        ");
    }
}
