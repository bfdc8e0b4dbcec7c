//! The identity and ownership sections of the seccomp source: which set*id, setgroups and chown
//! calls pass, with which arguments.
//!
//! Without an opt-in the set*id family is allowed with any argument (AppArmor's missing
//! `capability setuid/setgid` is what denies the change) and files may only be given to root.
//! With an opt-in the bare family is replaced by a root snippet and one snippet per user, which
//! allow exactly the argument combinations needed to drop to root or to that user. Every rule
//! has its i386 twin with 32-bit ids (`setuid32`, `chown32`, ...).

use std::fmt::Write;

use crate::seccomp::IdKind::{self, Gid, Uid};

/// A call taking ids: its native name, its i386 32-bit-id twin, how many leading arguments
/// (path, fd) precede the ids, and the ids' kinds.
struct IdCall {
    name: &'static str,
    twin: Option<&'static str>,
    leading: usize,
    ids: &'static [IdKind],
}

const SETGID: IdCall = IdCall {
    name: "setgid",
    twin: Some("setgid32"),
    leading: 0,
    ids: &[Gid],
};
const SETREGID: IdCall = IdCall {
    name: "setregid",
    twin: Some("setregid32"),
    leading: 0,
    ids: &[Gid, Gid],
};
const SETRESGID: IdCall = IdCall {
    name: "setresgid",
    twin: Some("setresgid32"),
    leading: 0,
    ids: &[Gid, Gid, Gid],
};
const SETUID: IdCall = IdCall {
    name: "setuid",
    twin: Some("setuid32"),
    leading: 0,
    ids: &[Uid],
};
const SETREUID: IdCall = IdCall {
    name: "setreuid",
    twin: Some("setreuid32"),
    leading: 0,
    ids: &[Uid, Uid],
};
const SETRESUID: IdCall = IdCall {
    name: "setresuid",
    twin: Some("setresuid32"),
    leading: 0,
    ids: &[Uid, Uid, Uid],
};
const CHOWN: IdCall = IdCall {
    name: "chown",
    twin: Some("chown32"),
    leading: 1,
    ids: &[Uid, Gid],
};
const LCHOWN: IdCall = IdCall {
    name: "lchown",
    twin: Some("lchown32"),
    leading: 1,
    ids: &[Uid, Gid],
};
const FCHOWN: IdCall = IdCall {
    name: "fchown",
    twin: Some("fchown32"),
    leading: 1,
    ids: &[Uid, Gid],
};
const FCHOWNAT: IdCall = IdCall {
    name: "fchownat",
    twin: None,
    leading: 2,
    ids: &[Uid, Gid],
};

/// Group changes come first: a process drops its group while it still may.
const SET_ID_CALLS: [(&IdCall, Family); 6] = [
    (&SETGID, Family::Set),
    (&SETREGID, Family::SetRe),
    (&SETRESGID, Family::SetRes),
    (&SETUID, Family::Set),
    (&SETREUID, Family::SetRe),
    (&SETRESUID, Family::SetRes),
];
const CHOWN_CALLS: [&IdCall; 4] = [&CHOWN, &LCHOWN, &FCHOWN, &FCHOWNAT];

#[derive(Clone, Copy)]
enum Family {
    Set,
    SetRe,
    SetRes,
}

/// Argument combinations, one string per rule, one letter per id argument: `T` the target
/// account, `R` root, `-` unchanged (-1).
struct Combinations {
    set: &'static [&'static str],
    setre: &'static [&'static str],
    setres: &'static [&'static str],
}

impl Combinations {
    fn of(&self, family: Family) -> &'static [&'static str] {
        match family {
            Family::Set => self.set,
            Family::SetRe => self.setre,
            Family::SetRes => self.setres,
        }
    }
}

/// Dropping to (or staying) root.
const TO_ROOT: Combinations = Combinations {
    set: &["R"],
    setre: &["R R", "- R", "R -"],
    setres: &["R R R", "- R -", "R R -"],
};

/// Dropping to an opt-in user, keeping root where a saved or real id may stay root.
const TO_USER: Combinations = Combinations {
    set: &["T"],
    setre: &["T T", "- T", "T -", "R T", "T R"],
    setres: &["T T T", "- T -", "T T -", "T T R", "T R R"],
};

const CHOWN_TO_ROOT: &[&str] = &["R R", "R -", "- R"];
const CHOWN_TO_USER: &[&str] = &["T T", "T -", "- T", "T R", "R T"];

/// Files may always be given to root (the template's ownership section).
pub fn ownership_to_root(out: &mut String) {
    out.push_str(
        "\n## Ownership: files may be given to root. The owner and group are chown's 2nd and 3rd\n\
         ## arguments (fchownat's 3rd and 4th); -1 leaves one unchanged.\n",
    );
    render_chown(out, CHOWN_TO_ROOT, "root");
}

/// No opt-in: the bare set*id family, any arguments; no setgroups.
pub fn bare_family(out: &mut String) {
    out.push_str(
        "\n## Identity: the set*id family with any arguments. Without capability setuid/setgid\n\
         ## (AppArmor, or the launcher's capability drop) only no-op changes succeed.\n",
    );
    for (call, _) in SET_ID_CALLS {
        writeln!(out, "{}", call.name).unwrap();
        if let Some(twin) = call.twin {
            writeln!(out, "{twin}").unwrap();
        }
    }
}

/// Opt-in: clearing the supplementary groups and dropping to root.
pub fn root_snippet(out: &mut String) {
    out.push_str(
        "\n## Identity: dropping to root. setgroups may only clear the supplementary groups\n\
         ## (so initgroups() fails); setfsuid/setfsgid are never allowed.\n\
         setgroups 0 -\n\
         setgroups32 0 -\n",
    );
    render_set_ids(out, &TO_ROOT, "root");
}

/// Opt-in: dropping to `user` (and its group of the same name) and giving files to it.
pub fn user_snippet(out: &mut String, user: &str) {
    writeln!(
        out,
        "\n## Identity: dropping to the opt-in user {user} (group {user})."
    )
    .unwrap();
    render_set_ids(out, &TO_USER, user);
    render_chown(out, CHOWN_TO_USER, user);
}

fn render_set_ids(out: &mut String, combinations: &Combinations, target: &str) {
    for (call, family) in SET_ID_CALLS {
        render(out, call, combinations.of(family), target);
    }
}

fn render_chown(out: &mut String, combinations: &[&str], target: &str) {
    for call in CHOWN_CALLS {
        render(out, call, combinations, target);
    }
}

/// One line per combination for the call and then for its twin.
fn render(out: &mut String, call: &IdCall, combinations: &[&str], target: &str) {
    for name in std::iter::once(call.name).chain(call.twin) {
        for combination in combinations {
            out.push_str(name);
            out.push_str(&" -".repeat(call.leading));
            for (letter, kind) in combination.split(' ').zip(call.ids) {
                out.push(' ');
                out.push_str(&id_token(letter, *kind, target));
            }
            out.push('\n');
        }
    }
}

fn id_token(letter: &str, kind: IdKind, target: &str) -> String {
    let prefix = match kind {
        Uid => "u",
        Gid => "g",
    };
    match letter {
        "T" => format!("{prefix}:{target}"),
        "R" => format!("{prefix}:root"),
        _ => "-1".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(render: impl FnOnce(&mut String)) -> Vec<String> {
        let mut out = String::new();
        render(&mut out);
        out.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(String::from)
            .collect()
    }

    #[test]
    fn every_combination_has_one_id_letter_per_argument() {
        for (call, family) in SET_ID_CALLS {
            for combinations in [&TO_ROOT, &TO_USER] {
                for combination in combinations.of(family) {
                    assert_eq!(
                        combination.split(' ').count(),
                        call.ids.len(),
                        "{combination}"
                    );
                }
            }
        }
        for combination in CHOWN_TO_ROOT.iter().chain(CHOWN_TO_USER) {
            assert_eq!(combination.split(' ').count(), 2);
        }
    }

    #[test]
    fn user_snippet_mirrors_uid_and_gid_and_has_twins() {
        let lines = lines(|out| user_snippet(out, "daemon"));
        assert!(lines.contains(&"setresgid g:daemon g:root g:root".to_string()));
        assert!(lines.contains(&"setresuid32 u:daemon u:root u:root".to_string()));
        assert!(lines.contains(&"setreuid -1 u:daemon".to_string()));
        assert!(lines.contains(&"fchownat - - u:root g:daemon".to_string()));
        assert!(lines.contains(&"lchown32 - u:daemon -1".to_string()));
        // 2 × (1 + 5 + 5) set*id lines, 2 × 3 chown calls with twins + fchownat, 5 each.
        assert_eq!(lines.len(), 2 * 2 * 11 + 7 * 5);
        assert!(
            lines
                .iter()
                .all(|l| !l.starts_with("setgroups") && !l.starts_with("setfs"))
        );
    }

    #[test]
    fn root_snippet_only_names_root() {
        let lines = lines(root_snippet);
        assert_eq!(lines[..2], ["setgroups 0 -", "setgroups32 0 -"]);
        assert!(lines.contains(&"setresgid -1 g:root -1".to_string()));
        assert!(lines.iter().all(|l| !l.contains("daemon")));
        assert!(lines.iter().all(|l| !l.starts_with("chown")));
    }

    #[test]
    fn bare_family_has_no_arguments_and_no_setgroups() {
        let lines = lines(bare_family);
        assert_eq!(lines.len(), 12);
        assert!(lines.iter().all(|l| !l.contains(' ')));
        assert!(!lines.iter().any(|l| l.starts_with("setgroups")));
    }
}
