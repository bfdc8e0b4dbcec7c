//! The rule language: one rule per line, parsed into [`Rule`]s with every token checked.
//!
//! `syscall [arg0 .. arg5]`, where each argument is `-` (any), a number or symbolic constant
//! (equal), `>N` `<N` `>=N` `<=N` `!N`, `|MASK` (all bits of MASK set), `u:NAME` / `g:NAME`
//! (the uid/gid of NAME, resolved at compile time) or `-1` (uid/gid arguments only). A line
//! starting with `~` denies with EACCES instead of allowing. `#` starts a comment. Parsing is
//! pure: names of syscalls and accounts are only checked for their shape here; the compiler
//! resolves them.

use thiserror::Error;

use super::constants;
use super::idargs::{self, IdKind};

/// The most arguments a system call has.
pub const MAX_ARGS: usize = 6;

/// One parsed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// 1-based line number in the source, for error messages.
    pub line: usize,
    pub action: RuleAction,
    pub syscall: String,
    /// One matcher per argument given; arguments not given match anything.
    pub args: Vec<ArgMatch>,
}

/// What the kernel does when a rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleAction {
    Allow,
    /// `~` lines: fail with EACCES rather than the default EPERM.
    DenyEacces,
}

/// A condition on one system call argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgMatch {
    Any,
    Equal(u64),
    NotEqual(u64),
    Greater(u64),
    GreaterOrEqual(u64),
    Less(u64),
    LessOrEqual(u64),
    /// `|MASK`: every bit of the mask is set.
    AllBitsSet(u64),
    /// `u:NAME`: a uid argument equal to NAME's uid.
    User(String),
    /// `g:NAME`: a gid argument equal to NAME's gid.
    Group(String),
    /// `-1`: a uid/gid argument meaning "unchanged".
    Unchanged,
}

/// A line that is not valid rule language.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}: {problem} in {token:?}")]
pub struct RuleError {
    pub line: usize,
    pub token: String,
    pub problem: Problem,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Problem {
    #[error("invalid system call name (expected lowercase letters, digits and '_')")]
    BadSyscallName,
    #[error("too many arguments (a system call has at most {MAX_ARGS})")]
    TooManyArgs,
    #[error("unknown symbolic constant (supported: {})", constants::names().collect::<Vec<_>>().join(" "))]
    UnknownConstant,
    #[error("invalid number")]
    BadNumber,
    #[error("`-1` is only allowed for uid/gid arguments")]
    MinusOneNotId,
    #[error("`u:`/`g:` is only allowed for uid/gid arguments")]
    NameNotId,
    #[error("`u:NAME` used for a gid argument (use `g:NAME`)")]
    UserForGid,
    #[error("`g:NAME` used for a uid argument (use `u:NAME`)")]
    GroupForUid,
    #[error("invalid account name")]
    BadAccountName,
    #[error("uid/gid arguments only support equality (a number, `-1`, `u:NAME` or `g:NAME`)")]
    ComparisonOnId,
    #[error("uid/gid values must be below 4294967295 (write `-1` for \"unchanged\")")]
    IdTooLarge,
}

/// Parses a whole source text. The first bad token stops parsing.
pub fn parse(source: &str) -> Result<Vec<Rule>, RuleError> {
    let mut rules = Vec::new();
    for (index, text) in source.lines().enumerate() {
        if let Some(rule) = parse_line(index + 1, text)? {
            rules.push(rule);
        }
    }
    Ok(rules)
}

fn parse_line(line: usize, text: &str) -> Result<Option<Rule>, RuleError> {
    let mut tokens = text
        .split_whitespace()
        .take_while(|token| !token.starts_with('#'));
    let Some(first) = tokens.next() else {
        return Ok(None);
    };
    let error = |token: &str, problem| RuleError {
        line,
        token: token.to_string(),
        problem,
    };
    let (action, syscall) = match first.strip_prefix('~') {
        Some(name) => (RuleAction::DenyEacces, name),
        None => (RuleAction::Allow, first),
    };
    if !is_syscall_name(syscall) {
        return Err(error(first, Problem::BadSyscallName));
    }
    let mut args = Vec::new();
    for (position, token) in tokens.enumerate() {
        if position == MAX_ARGS {
            return Err(error(token, Problem::TooManyArgs));
        }
        let kind = idargs::id_kind(syscall, position);
        args.push(parse_arg(token, kind).map_err(|problem| error(token, problem))?);
    }
    Ok(Some(Rule {
        line,
        action,
        syscall: syscall.to_string(),
        args,
    }))
}

fn is_syscall_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn parse_arg(token: &str, kind: Option<IdKind>) -> Result<ArgMatch, Problem> {
    if token == "-" {
        return Ok(ArgMatch::Any);
    }
    match kind {
        Some(kind) => parse_id_arg(token, kind),
        None => parse_plain_arg(token),
    }
}

fn parse_id_arg(token: &str, kind: IdKind) -> Result<ArgMatch, Problem> {
    if token == "-1" {
        return Ok(ArgMatch::Unchanged);
    }
    if let Some(name) = token.strip_prefix("u:") {
        return match kind {
            IdKind::Uid => account_name(name).map(ArgMatch::User),
            IdKind::Gid => Err(Problem::UserForGid),
        };
    }
    if let Some(name) = token.strip_prefix("g:") {
        return match kind {
            IdKind::Gid => account_name(name).map(ArgMatch::Group),
            IdKind::Uid => Err(Problem::GroupForUid),
        };
    }
    if token.starts_with(['>', '<', '!', '|']) {
        return Err(Problem::ComparisonOnId);
    }
    let value = value(token)?;
    // u32::MAX is -1 spelled as a number; it must go through `-1` to be obviously intended.
    if value >= u64::from(u32::MAX) {
        return Err(Problem::IdTooLarge);
    }
    Ok(ArgMatch::Equal(value))
}

/// Builds the matcher of one comparison operator from its value.
type MatcherFn = fn(u64) -> ArgMatch;

/// Comparison prefixes, longest first so that `>=` is not read as `>` followed by `=N`.
const OPERATORS: [(&str, MatcherFn); 6] = [
    (">=", ArgMatch::GreaterOrEqual),
    ("<=", ArgMatch::LessOrEqual),
    (">", ArgMatch::Greater),
    ("<", ArgMatch::Less),
    ("!", ArgMatch::NotEqual),
    ("|", ArgMatch::AllBitsSet),
];

fn parse_plain_arg(token: &str) -> Result<ArgMatch, Problem> {
    if token == "-1" {
        return Err(Problem::MinusOneNotId);
    }
    if token.starts_with("u:") || token.starts_with("g:") {
        return Err(Problem::NameNotId);
    }
    for (operator, matcher) in OPERATORS {
        if let Some(rest) = token.strip_prefix(operator) {
            return value(rest).map(matcher);
        }
    }
    value(token).map(ArgMatch::Equal)
}

/// A number (decimal or `0x` hexadecimal) or a symbolic constant.
fn value(token: &str) -> Result<u64, Problem> {
    if token.starts_with(|c: char| c.is_ascii_uppercase()) {
        return constants::lookup(token).ok_or(Problem::UnknownConstant);
    }
    let parsed = match token.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => token.parse(),
    };
    parsed.map_err(|_| Problem::BadNumber)
}

/// Account names as NSS and shadow-utils accept them, including `_daemon_`.
fn account_name(name: &str) -> Result<String, Problem> {
    let valid = !name.is_empty()
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if valid {
        Ok(name.to_string())
    } else {
        Err(Problem::BadAccountName)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Rule {
        let mut rules = parse(line).unwrap();
        assert_eq!(rules.len(), 1);
        rules.remove(0)
    }

    fn problem(source: &str) -> (usize, String, Problem) {
        let error = parse(source).unwrap_err();
        (error.line, error.token, error.problem)
    }

    #[test]
    fn comments_and_blank_lines_are_skipped() {
        let rules =
            parse("# header\n\n   \nread # trailing comment\n  # indented\nwrite\n").unwrap();
        let names: Vec<_> = rules.iter().map(|r| (r.line, r.syscall.as_str())).collect();
        assert_eq!(names, [(4, "read"), (6, "write")]);
        assert!(
            rules
                .iter()
                .all(|r| r.args.is_empty() && r.action == RuleAction::Allow)
        );
    }

    #[test]
    fn every_comparison_token() {
        let rule = one("mmap - >4096 <8 >=0x10 <=16 !3");
        use ArgMatch::*;
        assert_eq!(
            rule.args,
            [
                Any,
                Greater(4096),
                Less(8),
                GreaterOrEqual(16),
                LessOrEqual(16),
                NotEqual(3)
            ]
        );
        assert_eq!(one("clone |0x10000000").args, [AllBitsSet(0x1000_0000)]);
        assert_eq!(one("socket 1").args, [Equal(1)]);
    }

    #[test]
    fn symbolic_constants_in_every_position() {
        let rule = one("socket AF_UNIX SOCK_STREAM");
        assert_eq!(rule.args, [ArgMatch::Equal(1), ArgMatch::Equal(1)]);
        assert_eq!(one("socket !AF_NETLINK").args, [ArgMatch::NotEqual(16)]);
        assert_eq!(
            one("ioctl - |TIOCSTI").args,
            [ArgMatch::Any, ArgMatch::AllBitsSet(0x5412)]
        );
        assert_eq!(
            problem("socket AF_BOGUS"),
            (1, "AF_BOGUS".into(), Problem::UnknownConstant)
        );
        assert_eq!(problem("socket >AF_BOGUS").2, Problem::UnknownConstant);
    }

    #[test]
    fn tilde_denies_with_eacces() {
        let rule = one("~ptrace");
        assert_eq!(rule.action, RuleAction::DenyEacces);
        assert_eq!(rule.syscall, "ptrace");
    }

    #[test]
    fn id_arguments_take_names_numbers_and_minus_one() {
        use ArgMatch::*;
        assert_eq!(
            one("setresuid u:root -1 0").args,
            [User("root".into()), Unchanged, Equal(0)]
        );
        assert_eq!(
            one("fchownat - - u:_daemon_ g:daemon").args[2..],
            [User("_daemon_".into()), Group("daemon".into())]
        );
        assert_eq!(
            one("chown32 - -1 g:snap_daemon").args[1..],
            [Unchanged, Group("snap_daemon".into())]
        );
    }

    #[test]
    fn id_arguments_refuse_everything_but_equality() {
        assert_eq!(problem("setuid >0").2, Problem::ComparisonOnId);
        assert_eq!(problem("setuid !0").2, Problem::ComparisonOnId);
        assert_eq!(problem("setuid |1").2, Problem::ComparisonOnId);
        assert_eq!(problem("setuid 4294967295").2, Problem::IdTooLarge);
        assert_eq!(problem("setuid 0x100000001").2, Problem::IdTooLarge);
        assert_eq!(problem("setuid g:daemon").2, Problem::GroupForUid);
        assert_eq!(problem("setgid u:daemon").2, Problem::UserForGid);
        assert_eq!(problem("chown - g:root u:root").2, Problem::GroupForUid);
        assert_eq!(problem("setuid u:").2, Problem::BadAccountName);
        assert_eq!(problem("setuid u:a/b").2, Problem::BadAccountName);
    }

    #[test]
    fn non_id_arguments_refuse_minus_one_and_names() {
        assert_eq!(problem("chown -1").2, Problem::MinusOneNotId);
        assert_eq!(problem("setgroups -1 -").2, Problem::MinusOneNotId);
        assert_eq!(problem("read u:root").2, Problem::NameNotId);
        assert_eq!(problem("read 12abc").2, Problem::BadNumber);
        assert_eq!(problem("read >").2, Problem::BadNumber);
        assert_eq!(problem("read 0xZZ").2, Problem::BadNumber);
    }

    #[test]
    fn errors_carry_line_and_token() {
        let error = parse("read\nwrite\n\nopen - - - - - - 7\n").unwrap_err();
        assert_eq!((error.line, error.token.as_str()), (4, "7"));
        assert_eq!(error.problem, Problem::TooManyArgs);
        assert_eq!(
            error.to_string(),
            format!("line 4: {} in \"7\"", Problem::TooManyArgs)
        );
        assert_eq!(
            problem("read\nRead"),
            (2, "Read".into(), Problem::BadSyscallName)
        );
        assert_eq!(problem("~").2, Problem::BadSyscallName);
        assert_eq!(problem("sys-call").2, Problem::BadSyscallName);
    }
}
