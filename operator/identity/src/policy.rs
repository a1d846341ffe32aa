//! oslo.policy rules: check strings parsed once, evaluated per request.
//!
//! The check-string language is oslo.policy's (`_parser.py`, `_checks.py`):
//! `@` (always), `!` (never), `rule:NAME`, `role:NAME` and generic
//! `KIND:MATCH` checks, combined with `not`, `and`, `or` (binding in that
//! order) and parentheses. `MATCH` may hold `%(name)s`, filled from the
//! target as Python's `%` operator fills it.
//!
//! Every rule is parsed when a [`Policy`] is built; [`Policy::enforce`] only
//! walks the parsed trees and does not allocate. Where oslo.policy would log
//! "Failed to understand rule" and then deny every request, loading an
//! override file fails here instead, so that the mistake shows at start-up.

use std::collections::BTreeMap;
use std::fmt;

use serde_yaml::Value as Yaml;

/// What a policy check knows of the caller (oslo.context's
/// `to_policy_values`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Credentials {
    pub user_id: Option<String>,
    /// The project acted for (after sudo).
    pub project_id: Option<String>,
    /// Lower-cased role names.
    pub roles: Vec<String>,
    pub is_admin: bool,
}

/// A value of a policy target (`%(name)s` substitutes its text form, as
/// Python's `str()` writes it: `True`, `False`, `None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Bool(bool),
    None,
}

impl Value {
    /// The text `%(name)s` puts in a check: Python's `str()` of the value.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Str(text) => text,
            Self::Bool(true) => "True",
            Self::Bool(false) => "False",
            Self::None => "None",
        }
    }
}

/// The object a rule is checked against (`%(project_id)s` and friends).
pub type Target = BTreeMap<&'static str, Value>;

/// Designate 23's rules (`designate.common.policies.list_rules()`), one a
/// line: name, check string, scope types, operations.
const DESIGNATE_DEFAULTS: &str = include_str!("designate-23-policies.tsv");

/// The rule an unknown rule name is checked as (oslo.policy's
/// `policy_default_rule`).
const DEFAULT_RULE: &str = "default";

/// Designate's defaults whose `DeprecatedRule` has another name: (rule, old
/// name, the old rule's default check `rule:X`). oslo.policy gives the rule
/// the policy file's check for the old name when the file sets the old name
/// (to something else than the old default) and not the new one.
const RENAMED_RULES: &[(&str, &str, &str)] = &[(
    "get_zone_transfer_request_detailed",
    "create_zone_transfer_request",
    "admin_or_owner",
)];

/// Rule references followed in one check before the chain is taken for a
/// cycle (where oslo.policy would hit Python's recursion limit and fail).
const MAX_RULE_DEPTH: u32 = 32;

/// Parentheses and `not`s nested in one check string; bounds the recursion
/// of parsing and evaluation.
const MAX_NESTING: u32 = 32;

/// A set of named rules: Designate's defaults, maybe overridden.
#[derive(Clone, Debug)]
pub struct Policy {
    rules: Vec<Rule>,
    by_name: foldhash::HashMap<Box<str>, usize>,
    /// Index of rule `default`, if there is one.
    default: Option<usize>,
}

#[derive(Clone, Debug)]
struct Rule {
    name: Box<str>,
    /// As written (list-form rules from a file: as JSON).
    check_str: Box<str>,
    check: Check,
    /// Set by a policy file (oslo.policy's `file_rules`).
    from_file: bool,
}

impl Policy {
    /// Designate 23's default rules (`enforce_new_defaults = True`).
    pub fn designate_defaults() -> Self {
        let rules = default_rules()
            .map(|(name, check_str)| {
                let check = parse_text_rule(check_str).unwrap_or_else(|message| {
                    // A bug in the embedded table (a unit test parses them
                    // all); deny rather than refuse to start.
                    tracing::error!(rule = name, message, "default policy rule does not parse");
                    Check::Never
                });
                Rule {
                    name: name.into(),
                    check_str: check_str.into(),
                    check,
                    from_file: false,
                }
            })
            .collect();
        let mut policy = Self {
            rules,
            by_name: foldhash::HashMap::default(),
            default: None,
        };
        policy.reindex();
        policy
    }

    /// These rules with an oslo.policy YAML (or JSON) file's rules over them.
    ///
    /// The file maps rule names to check strings (or to oslo.policy's old
    /// list-of-lists form); each replaces the rule of that name or adds one.
    /// An empty or null check allows everyone, as in oslo.policy. The error
    /// names the rule that does not parse (an empty name when the file as a
    /// whole is unusable).
    pub fn with_overrides(mut self, text: &str) -> Result<Self, crate::Error> {
        for (name, check_str, check) in parse_policy_file(text)? {
            let rule = Rule {
                name: name.into(),
                check_str,
                check,
                from_file: true,
            };
            match self.by_name.get(&rule.name) {
                Some(&index) => self.rules[index] = rule,
                None => {
                    self.by_name.insert(rule.name.clone(), self.rules.len());
                    self.rules.push(rule);
                }
            }
        }
        self.apply_renamed_rules();
        self.reindex();
        self.warn_about_references();
        Ok(self)
    }

    /// Whether `creds` pass rule `rule` on `target`; an unknown rule is
    /// checked as rule `default`.
    pub fn enforce(&self, rule: &str, target: &Target, creds: &Credentials) -> bool {
        let Some(index) = self.by_name.get(rule).copied().or(self.default) else {
            return false;
        };
        let request = Request {
            policy: self,
            target,
            creds,
        };
        match request.rule(index, 0) {
            Ok(passed) => passed,
            Err(TooDeep) => {
                tracing::debug!(rule, "policy rule references form a cycle; denied");
                false
            }
        }
    }

    /// The names of all rules, Designate's first, then any a file added.
    pub fn rule_names(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|rule| &*rule.name)
    }

    /// Rule `rule`'s check string as written, if there is such a rule.
    pub fn check_str(&self, rule: &str) -> Option<&str> {
        let &index = self.by_name.get(rule)?;
        Some(&self.rules[index].check_str)
    }

    /// Rebuilds the name index and points every `rule:NAME` at its rule.
    fn reindex(&mut self) {
        let Self {
            rules,
            by_name,
            default,
        } = self;
        *by_name = rules
            .iter()
            .enumerate()
            .map(|(index, rule)| (rule.name.clone(), index))
            .collect();
        *default = by_name.get(DEFAULT_RULE).copied();
        for rule in rules {
            rule.check.resolve(by_name);
        }
    }

    /// oslo.policy's handling of a `DeprecatedRule` with another name (see
    /// [`RENAMED_RULES`]); the rule goes back to its default when the file
    /// no longer calls for the old rule's check.
    fn apply_renamed_rules(&mut self) {
        for &(name, old_name, old_default) in RENAMED_RULES {
            let (Some(&index), Some(&old_index)) =
                (self.by_name.get(name), self.by_name.get(old_name))
            else {
                continue;
            };
            if self.rules[index].from_file {
                continue;
            }
            let old = &self.rules[old_index];
            let refers_to =
                |wanted: &str| matches!(&old.check, Check::Rule { name, .. } if **name == *wanted);
            let replacement = if old.from_file && !refers_to(old_default) && !refers_to(name) {
                Some((old.check.clone(), old.check_str.clone()))
            } else {
                default_rules()
                    .find(|&(default_name, _)| default_name == name)
                    .and_then(|(_, check_str)| {
                        let check = parse_text_rule(check_str).ok()?;
                        Some((check, check_str.into()))
                    })
            };
            if let Some((check, check_str)) = replacement {
                let rule = &mut self.rules[index];
                rule.check = check;
                rule.check_str = check_str;
            }
        }
    }

    /// Logs what oslo.policy's `check_rules` logs: references to undefined
    /// rules (they deny) and cycles (they deny when reached).
    fn warn_about_references(&self) {
        let undefined: Vec<&str> = self
            .rules
            .iter()
            .filter(|rule| {
                let mut found = false;
                rule.check
                    .each_reference(&mut |index| found |= index.is_none());
                found
            })
            .map(|rule| &*rule.name)
            .collect();
        if !undefined.is_empty() {
            tracing::warn!(
                rules = ?undefined,
                "policy rules reference a rule that is not defined; such a reference is checked as the default rule"
            );
        }
        let cyclic: Vec<&str> = (0..self.rules.len())
            .filter(|&index| self.reaches(index, index))
            .map(|index| &*self.rules[index].name)
            .collect();
        if !cyclic.is_empty() {
            tracing::warn!(
                rules = ?cyclic,
                "policy rules are part of a cyclical reference; it denies when reached"
            );
        }
    }

    /// Whether rule `from`'s references lead, directly or not, to `to`.
    fn reaches(&self, from: usize, to: usize) -> bool {
        let mut seen = vec![false; self.rules.len()];
        let mut pending = vec![from];
        while let Some(index) = pending.pop() {
            self.rules[index].check.each_reference(&mut |next| {
                if let Some(next) = next
                    && !seen[next]
                {
                    seen[next] = true;
                    pending.push(next);
                }
            });
            if seen[to] {
                return true;
            }
        }
        false
    }
}

/// (name, check string) of each of Designate's default rules.
fn default_rules() -> impl Iterator<Item = (&'static str, &'static str)> {
    DESIGNATE_DEFAULTS.lines().filter_map(|line| {
        let mut columns = line.split('\t');
        let name = columns.next().filter(|name| !name.is_empty())?;
        Some((name, columns.next().unwrap_or_default()))
    })
}

/// A parsed check string.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Check {
    /// `@` (and the empty check string).
    Always,
    /// `!`.
    Never,
    /// `rule:NAME`; `index` is set once the policy is built (none: no such
    /// rule, which denies).
    Rule {
        name: Box<str>,
        index: Option<usize>,
    },
    /// `role:NAME`: one of the caller's roles, ignoring case.
    Role(Pattern),
    /// `KIND:MATCH`: a literal or credential `KIND` equal to `MATCH`.
    Generic {
        kind: Box<str>,
        operand: Operand,
        pattern: Pattern,
    },
    Not(Box<Check>),
    And(Vec<Check>),
    Or(Vec<Check>),
}

impl Check {
    fn resolve(&mut self, by_name: &foldhash::HashMap<Box<str>, usize>) {
        match self {
            Self::Rule { name, index } => *index = by_name.get(name).copied(),
            Self::Not(inner) => inner.resolve(by_name),
            Self::And(checks) | Self::Or(checks) => {
                for check in checks {
                    check.resolve(by_name);
                }
            }
            Self::Always | Self::Never | Self::Role(_) | Self::Generic { .. } => {}
        }
    }

    fn each_reference(&self, visit: &mut impl FnMut(Option<usize>)) {
        match self {
            Self::Rule { index, .. } => visit(*index),
            Self::Not(inner) => inner.each_reference(visit),
            Self::And(checks) | Self::Or(checks) => {
                for check in checks {
                    check.each_reference(visit);
                }
            }
            Self::Always | Self::Never | Self::Role(_) | Self::Generic { .. } => {}
        }
    }
}

/// oslo.policy's `str()` of a check tree (for logs and tests).
impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let joined = |f: &mut fmt::Formatter<'_>, checks: &[Check], operator: &str| {
            f.write_str("(")?;
            for (position, check) in checks.iter().enumerate() {
                if position > 0 {
                    write!(f, " {operator} ")?;
                }
                write!(f, "{check}")?;
            }
            f.write_str(")")
        };
        match self {
            Self::Always => f.write_str("@"),
            Self::Never => f.write_str("!"),
            Self::Rule { name, .. } => write!(f, "rule:{name}"),
            Self::Role(pattern) => write!(f, "role:{pattern}"),
            Self::Generic { kind, pattern, .. } => write!(f, "{kind}:{pattern}"),
            Self::Not(inner) => write!(f, "not {inner}"),
            Self::And(checks) => joined(f, checks, "and"),
            Self::Or(checks) => joined(f, checks, "or"),
        }
    }
}

/// What the `KIND` of a generic check stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Operand {
    /// A Python literal, as `str()` writes it.
    Literal(Box<str>),
    UserId,
    ProjectId,
    /// Matches when one of the roles equals `MATCH` exactly.
    Roles,
    IsAdmin,
    /// A credential we do not have (or a path into one): never matches,
    /// as on oslo.policy's `KeyError`.
    Missing,
}

/// `MATCH` of a check: text with `%(name)s` holes.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Pattern(Box<[Piece]>);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(Box<str>),
    /// `%(name)s`.
    Key(Box<str>),
}

impl Pattern {
    /// Parses a `%`-format as Python's `str % mapping` reads it; anything
    /// but `%(name)s` and `%%` would raise at every check, so it is refused.
    fn parse(text: &str) -> Result<Self, String> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(at) = rest.find('%') {
            literal.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            if let Some(after) = after.strip_prefix('%') {
                literal.push('%');
                rest = after;
                continue;
            }
            let unsupported = || format!("{text:?}: only %(name)s and %% may follow a %");
            let key_onwards = after.strip_prefix('(').ok_or_else(unsupported)?;
            // Python lets a key hold balanced parentheses.
            let mut open = 1_usize;
            let end = key_onwards
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '(' => open += 1,
                        ')' => open -= 1,
                        _ => {}
                    }
                    open == 0
                })
                .map(|(end, _)| end)
                .ok_or_else(|| format!("{text:?}: a %( is not closed"))?;
            rest = key_onwards[end + 1..]
                .strip_prefix('s')
                .ok_or_else(unsupported)?;
            if !literal.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut literal).into()));
            }
            pieces.push(Piece::Key(key_onwards[..end].into()));
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal.into()));
        }
        Ok(Self(pieces.into()))
    }

    fn is_complete(&self, target: &Target) -> bool {
        self.0.iter().all(|piece| match piece {
            Piece::Text(_) => true,
            Piece::Key(key) => target.contains_key(&**key),
        })
    }

    /// Whether the pattern, filled from `target`, is `candidate`; false
    /// when a key is missing from the target (Python's `KeyError`).
    fn equals(&self, target: &Target, candidate: &str) -> bool {
        let mut rest = candidate;
        for piece in &self.0 {
            let text = match piece {
                Piece::Text(text) => &**text,
                Piece::Key(key) => match target.get(&**key) {
                    Some(value) => value.as_str(),
                    None => return false,
                },
            };
            match rest.strip_prefix(text) {
                Some(after) => rest = after,
                None => return false,
            }
        }
        rest.is_empty()
    }

    /// As [`Self::equals`], both sides lower-cased (Python's `str.lower`).
    fn equals_ignoring_case(&self, target: &Target, candidate: &str) -> bool {
        let filled = self.0.iter().flat_map(|piece| {
            let text = match piece {
                Piece::Text(text) => &**text,
                Piece::Key(key) => target.get(&**key).map_or("", Value::as_str),
            };
            text.chars()
        });
        filled
            .flat_map(char::to_lowercase)
            .eq(candidate.chars().flat_map(char::to_lowercase))
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for piece in &self.0 {
            match piece {
                Piece::Text(text) => f.write_str(&text.replace('%', "%%"))?,
                Piece::Key(key) => write!(f, "%({key})s")?,
            }
        }
        Ok(())
    }
}

/// A chain of rule references too long to be anything but a cycle.
struct TooDeep;

/// One `enforce` call.
struct Request<'a> {
    policy: &'a Policy,
    target: &'a Target,
    creds: &'a Credentials,
}

impl Request<'_> {
    fn rule(&self, index: usize, depth: u32) -> Result<bool, TooDeep> {
        if depth >= MAX_RULE_DEPTH {
            return Err(TooDeep);
        }
        match self.policy.rules.get(index) {
            Some(rule) => self.check(&rule.check, depth + 1),
            None => Ok(false),
        }
    }

    fn check(&self, check: &Check, depth: u32) -> Result<bool, TooDeep> {
        Ok(match check {
            Check::Always => true,
            Check::Never => false,
            // oslo.policy's `Rules.__missing__`: an unknown rule is the
            // default rule (old policy files name rules that are gone).
            Check::Rule { index, .. } => match index.or(self.policy.default) {
                Some(index) => return self.rule(index, depth),
                None => false,
            },
            Check::Role(pattern) => {
                pattern.is_complete(self.target)
                    && (self.creds.roles.iter())
                        .any(|role| pattern.equals_ignoring_case(self.target, role))
            }
            Check::Generic {
                operand, pattern, ..
            } => self.generic(operand, pattern),
            Check::Not(inner) => !self.check(inner, depth)?,
            Check::And(checks) => {
                for check in checks {
                    if !self.check(check, depth)? {
                        return Ok(false);
                    }
                }
                true
            }
            Check::Or(checks) => {
                for check in checks {
                    if self.check(check, depth)? {
                        return Ok(true);
                    }
                }
                false
            }
        })
    }

    fn generic(&self, operand: &Operand, pattern: &Pattern) -> bool {
        let target = self.target;
        // A credential that is None compares as Python's "None".
        fn text(value: &Option<String>) -> &str {
            value.as_deref().unwrap_or("None")
        }
        match operand {
            Operand::Literal(literal) => pattern.equals(target, literal),
            Operand::UserId => pattern.equals(target, text(&self.creds.user_id)),
            Operand::ProjectId => pattern.equals(target, text(&self.creds.project_id)),
            Operand::IsAdmin => {
                pattern.equals(target, if self.creds.is_admin { "True" } else { "False" })
            }
            Operand::Roles => (self.creds.roles.iter()).any(|role| pattern.equals(target, role)),
            Operand::Missing => false,
        }
    }
}

/// oslo.policy's `_parse_text_rule`: a whole check string.
fn parse_text_rule(text: &str) -> Result<Check, String> {
    if text.is_empty() {
        return Ok(Check::Always);
    }
    let tokens = tokenize(text);
    let mut parser = Parser {
        tokens: &tokens,
        next: 0,
    };
    let check = parser.or_expr(0)?;
    match parser.tokens.get(parser.next) {
        None => Ok(check),
        Some(token) => Err(format!("unexpected {token} after {check}")),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token<'a> {
    Open,
    Close,
    And,
    Or,
    Not,
    Check(&'a str),
    /// A quoted word: oslo.policy's grammar has no use for one.
    Quoted(&'a str),
}

impl fmt::Display for Token<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open => f.write_str("'('"),
            Self::Close => f.write_str("')'"),
            Self::And => f.write_str("'and'"),
            Self::Or => f.write_str("'or'"),
            Self::Not => f.write_str("'not'"),
            Self::Check(text) => write!(f, "{text:?}"),
            Self::Quoted(text) => write!(f, "quoted string {text:?}"),
        }
    }
}

/// Python's `\s` (`str.isspace`): Unicode white space and the separators
/// U+001C..U+001F.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// oslo.policy's `_parse_tokenize`: words split at white space, with
/// parentheses peeled off their ends (those inside, as in `%(name)s`,
/// stay).
fn tokenize(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    for word in text.split(is_python_space).filter(|word| !word.is_empty()) {
        let unopened = word.trim_start_matches('(');
        tokens.extend(std::iter::repeat_n(
            Token::Open,
            word.len() - unopened.len(),
        ));
        let bare = unopened.trim_end_matches(')');
        if bare.eq_ignore_ascii_case("and") {
            tokens.push(Token::And);
        } else if bare.eq_ignore_ascii_case("or") {
            tokens.push(Token::Or);
        } else if bare.eq_ignore_ascii_case("not") {
            tokens.push(Token::Not);
        } else if !bare.is_empty() {
            // As oslo.policy, the quotes are looked for before the closing
            // parentheses are peeled.
            let quoted = unopened.len() >= 2
                && matches!(
                    (unopened.as_bytes().first(), unopened.as_bytes().last()),
                    (Some(b'"'), Some(b'"')) | (Some(b'\''), Some(b'\''))
                );
            tokens.push(if quoted {
                Token::Quoted(&unopened[1..unopened.len() - 1])
            } else {
                Token::Check(bare)
            });
        }
        tokens.extend(std::iter::repeat_n(
            Token::Close,
            unopened.len() - bare.len(),
        ));
    }
    tokens
}

/// Recursive descent over oslo.policy's grammar; oslo.policy's shift-reduce
/// parser accepts the same strings and builds trees that evaluate alike.
struct Parser<'t, 'a> {
    tokens: &'t [Token<'a>],
    next: usize,
}

impl Parser<'_, '_> {
    fn eat(&mut self, wanted: Token<'_>) -> bool {
        let found = self.tokens.get(self.next) == Some(&wanted);
        if found {
            self.next += 1;
        }
        found
    }

    fn or_expr(&mut self, depth: u32) -> Result<Check, String> {
        let first = self.and_expr(depth)?;
        if !self.eat(Token::Or) {
            return Ok(first);
        }
        let mut checks = vec![first, self.and_expr(depth)?];
        while self.eat(Token::Or) {
            checks.push(self.and_expr(depth)?);
        }
        Ok(Check::Or(checks))
    }

    fn and_expr(&mut self, depth: u32) -> Result<Check, String> {
        let first = self.unary(depth)?;
        if !self.eat(Token::And) {
            return Ok(first);
        }
        let mut checks = vec![first, self.unary(depth)?];
        while self.eat(Token::And) {
            checks.push(self.unary(depth)?);
        }
        Ok(Check::And(checks))
    }

    fn unary(&mut self, depth: u32) -> Result<Check, String> {
        if depth >= MAX_NESTING {
            return Err(format!("nested more than {MAX_NESTING} deep"));
        }
        let token = self.tokens.get(self.next).copied();
        self.next += 1;
        match token {
            Some(Token::Not) => Ok(Check::Not(Box::new(self.unary(depth + 1)?))),
            Some(Token::Open) => {
                let inner = self.or_expr(depth + 1)?;
                if self.eat(Token::Close) {
                    Ok(inner)
                } else {
                    Err(format!("a '(' before {inner} is not closed"))
                }
            }
            Some(Token::Check(text)) => parse_check(text),
            Some(other) => Err(format!("unexpected {other}")),
            None => Err("ends where a check was expected".to_owned()),
        }
    }
}

/// oslo.policy's `_parse_check`: one `KIND:MATCH`, `@` or `!`.
fn parse_check(text: &str) -> Result<Check, String> {
    match text {
        "@" => return Ok(Check::Always),
        "!" => return Ok(Check::Never),
        _ => {}
    }
    let (kind, matched) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?} is not KIND:MATCH, '@' or '!'"))?;
    Ok(match kind {
        // oslo.policy does not fill in `%(name)s` for rule names.
        "rule" => Check::Rule {
            name: matched.into(),
            index: None,
        },
        "role" => Check::Role(Pattern::parse(matched)?),
        "http" | "https" => {
            return Err(format!(
                "{text:?}: external {kind} checks are not supported"
            ));
        }
        _ => Check::Generic {
            kind: kind.into(),
            operand: parse_operand(kind)?,
            pattern: Pattern::parse(matched)?,
        },
    })
}

/// What `ast.literal_eval(kind)` gives, or the credential it names when it
/// is no literal. Literals beyond strings without escapes, integers, `True`,
/// `False` and `None` are refused rather than guessed at.
fn parse_operand(kind: &str) -> Result<Operand, String> {
    if matches!(kind, "True" | "False" | "None") {
        return Ok(Operand::Literal(kind.into()));
    }
    if let Some(text) = python_string(kind) {
        return Ok(Operand::Literal(text.into()));
    }
    if let Some(number) = python_int(kind) {
        return Ok(Operand::Literal(number.into()));
    }
    if is_dotted_name(kind) {
        let (credential, path) = kind.split_once('.').unwrap_or((kind, ""));
        let operand = match credential {
            "user_id" => Operand::UserId,
            "project_id" => Operand::ProjectId,
            "roles" => Operand::Roles,
            "is_admin" => Operand::IsAdmin,
            _ => return Ok(Operand::Missing),
        };
        // Python raises a TypeError at every check looking inside these.
        if !path.is_empty() {
            return Err(format!(
                "{kind:?}: credential {credential} has no attributes"
            ));
        }
        return Ok(operand);
    }
    Err(format!(
        "{kind:?} is neither a credential name nor a supported literal \
         (a string without escapes, an integer, True, False or None)"
    ))
}

/// The text of a quoted Python string without escapes.
fn python_string(kind: &str) -> Option<&str> {
    let quote = kind.chars().next().filter(|c| matches!(c, '\'' | '"'))?;
    let inner = kind.strip_prefix(quote)?.strip_suffix(quote)?;
    (!inner.contains(quote) && !inner.contains('\\')).then_some(inner)
}

/// `str()` of a decimal Python integer.
fn python_int(kind: &str) -> Option<String> {
    let (sign, digits) = match kind.as_bytes().first() {
        Some(b'-') => ("-", &kind[1..]),
        Some(b'+') => ("", &kind[1..]),
        _ => ("", kind),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if digits.bytes().all(|b| b == b'0') {
        return Some("0".to_owned());
    }
    // Python refuses `007`.
    (!digits.starts_with('0')).then(|| format!("{sign}{digits}"))
}

/// `a` or `a.b.c` with each part a Python name (ASCII only here).
fn is_dotted_name(kind: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
        "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global",
        "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return",
        "try", "while", "with", "yield",
    ];
    kind.split('.').all(|part| {
        let mut chars = part.chars();
        chars
            .next()
            .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !KEYWORDS.contains(&part)
    })
}

/// oslo.policy's `_parse_list_rule`: the old `[["a", "b"], ["c"]]` form,
/// an `or` of `and`s of single checks.
fn parse_list_rule(rule: &[Yaml]) -> Result<Check, String> {
    if rule.is_empty() {
        return Ok(Check::Always);
    }
    let single = |item: &Yaml| match item {
        Yaml::String(text) => parse_check(text),
        other => Err(format!("{other:?} is not a check string")),
    };
    let mut any = Vec::new();
    for inner in rule {
        let mut all = match inner {
            Yaml::String(text) if text.is_empty() => continue,
            Yaml::String(_) => vec![single(inner)?],
            Yaml::Sequence(items) => items.iter().map(single).collect::<Result<Vec<_>, _>>()?,
            other => {
                return Err(format!(
                    "{other:?} is neither a check string nor a list of them"
                ));
            }
        };
        any.push(match all.len() {
            0 => continue,
            1 => all.swap_remove(0),
            _ => Check::And(all),
        });
    }
    Ok(match any.len() {
        0 => Check::Never,
        1 => any.swap_remove(0),
        _ => Check::Or(any),
    })
}

/// A policy file's (name, check string, check) for each rule, in file order.
fn parse_policy_file(text: &str) -> Result<Vec<(String, Box<str>, Check)>, crate::Error> {
    let file_error = |message: String| crate::Error::Policy {
        rule: String::new(),
        message,
    };
    let document: Yaml = serde_yaml::from_str(text)
        .map_err(|error| file_error(format!("not YAML or JSON: {error}")))?;
    let mapping = match document {
        // An empty file overrides nothing.
        Yaml::Null => return Ok(Vec::new()),
        Yaml::Mapping(mapping) => mapping,
        _ => {
            return Err(file_error(
                "not a mapping of rule names to check strings".to_owned(),
            ));
        }
    };
    let mut rules = Vec::with_capacity(mapping.len());
    for (name, value) in mapping {
        let Yaml::String(name) = name else {
            return Err(file_error(format!("rule name {name:?} is not a string")));
        };
        let parsed = match &value {
            Yaml::String(check_str) => {
                parse_text_rule(check_str).map(|check| (check_str.as_str().into(), check))
            }
            // oslo.policy reads a missing check as "always".
            Yaml::Null => Ok(("".into(), Check::Always)),
            Yaml::Sequence(items) => parse_list_rule(items).map(|check| {
                let written = serde_json::to_string(&value).unwrap_or_default();
                (written.into(), check)
            }),
            // PyYAML reads `rule: !` as null, which would allow everyone.
            Yaml::Tagged(_) => Err("a YAML tag (write '!' in quotes)".to_owned()),
            other => Err(format!("{other:?} is not a check string")),
        };
        let (check_str, check) = parsed.map_err(|message| crate::Error::Policy {
            rule: name.clone(),
            message,
        })?;
        rules.push((name, check_str, check));
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> String {
        match parse_text_rule(text) {
            Ok(check) => check.to_string(),
            Err(message) => format!("error: {message}"),
        }
    }

    fn fails(text: &str) -> bool {
        parse_text_rule(text).is_err()
    }

    fn creds(project: &str, roles: &[&str]) -> Credentials {
        Credentials {
            user_id: Some("u1".to_owned()),
            project_id: Some(project.to_owned()),
            roles: roles.iter().map(|role| (*role).to_owned()).collect(),
            is_admin: false,
        }
    }

    fn target(pairs: &[(&'static str, Value)]) -> Target {
        pairs.iter().cloned().collect()
    }

    fn text(value: &str) -> Value {
        Value::Str(value.to_owned())
    }

    /// A zone of project p1.
    fn zone(zone_type: &str) -> Target {
        target(&[
            ("project_id", text("p1")),
            ("tenant_id", text("p1")),
            ("zone_type", text(zone_type)),
            ("zone_shared", Value::Bool(false)),
        ])
    }

    /// Evaluates one check string as a one-rule policy would.
    fn eval(check: &str, target: &Target, creds: &Credentials) -> bool {
        let policy = Policy::designate_defaults()
            .with_overrides(&serde_json::json!({ "probe": check }).to_string())
            .expect("the check parses");
        policy.enforce("probe", target, creds)
    }

    #[test]
    fn value_text_is_python_str() {
        assert_eq!(text("x").as_str(), "x");
        assert_eq!(Value::Bool(true).as_str(), "True");
        assert_eq!(Value::Bool(false).as_str(), "False");
        assert_eq!(Value::None.as_str(), "None");
    }

    #[test]
    fn precedence_is_not_then_and_then_or() {
        assert_eq!(
            parsed("a:1 or b:2 and not c:3"),
            "(a:1 or (b:2 and not c:3))"
        );
        assert_eq!(parsed("a:1 and b:2 or c:3"), "((a:1 and b:2) or c:3)");
        assert_eq!(
            parsed("a:1 and b:2 or c:3 and d:4 or e:5"),
            "((a:1 and b:2) or (c:3 and d:4) or e:5)"
        );
        assert_eq!(
            parsed("a:1 or b:2 and c:3 and d:4"),
            "(a:1 or (b:2 and c:3 and d:4))"
        );
        assert_eq!(parsed("not a:1 or b:2"), "(not a:1 or b:2)");
        assert_eq!(parsed("not (a:1 or b:2)"), "not (a:1 or b:2)");
        assert_eq!(parsed("not not a:1"), "not not a:1");
        assert_eq!(
            parsed("a:1 and not b:2 and c:3"),
            "(a:1 and not b:2 and c:3)"
        );
        assert_eq!(parsed("(a:1 or b:2) and c:3"), "((a:1 or b:2) and c:3)");
    }

    #[test]
    fn tokenizer_quirks() {
        // Parentheses stuck to words, and several at once.
        assert_eq!(parsed("(role:admin)"), "role:admin");
        assert_eq!(parsed("((role:admin))"), "role:admin");
        assert_eq!(parsed("( role:admin )"), "role:admin");
        // Only at a word's ends: `(b:2))and` is one (malformed) check.
        assert!(fails("((a:1) or (b:2))and c:3"));
        // Operators in any case; a %(name)s keeps its parentheses.
        assert_eq!(
            parsed("a:1 AND b:2 Or NOT c:3"),
            "((a:1 and b:2) or not c:3)"
        );
        assert_eq!(
            parsed("(project_id:%(project_id)s)"),
            "project_id:%(project_id)s"
        );
        // A quoted kind is a literal; a wholly quoted word is no check.
        assert_eq!(parsed("('True':%(zone_shared)s)"), "'True':%(zone_shared)s");
        assert!(fails("'role:admin'"));
        assert!(fails("\"role:admin\" or @"));
        // White space of any kind separates.
        assert_eq!(parsed("a:1\tor\nb:2"), "(a:1 or b:2)");
        assert_eq!(parsed("@"), "@");
        assert_eq!(parsed("(!)"), "!");
        assert_eq!(parsed(""), "@");
    }

    #[test]
    fn malformed_check_strings_are_refused() {
        for bad in [
            "role:admin and",
            "and role:admin",
            "role:admin or",
            "not",
            "(role:admin",
            "role:admin)",
            "()",
            "role:admin role:member",
            "   ",
            "admin",
            "role:admin or admin",
            "project_id:%(project_id)d",
            "project_id:%s",
            "project_id:%(project_id",
            "project_id:100%",
            "http:https://example.invalid/check",
            "'a\\'b':x",
            "007:x",
            "1.5:x",
            "a-b:x",
            ":x",
            "and.b:x",
        ] {
            assert!(fails(bad), "{bad:?} parsed as {}", parsed(bad));
        }
        let deep = format!("{}@{}", "(".repeat(100), ")".repeat(100));
        assert!(fails(&deep));
        assert!(fails(&format!("{}@", "not ".repeat(100))));
    }

    #[test]
    fn generic_checks_compare_python_text() {
        let shared = target(&[("zone_shared", Value::Bool(true)), ("n", text("42"))]);
        let nobody = Credentials::default();
        assert!(eval("True:%(zone_shared)s", &shared, &nobody));
        assert!(eval("'True':%(zone_shared)s", &shared, &nobody));
        assert!(eval("\"True\":%(zone_shared)s", &shared, &nobody));
        assert!(!eval("False:%(zone_shared)s", &shared, &nobody));
        assert!(eval("42:%(n)s", &shared, &nobody));
        assert!(eval("+42:%(n)s", &shared, &nobody));
        // `%%` is one `%` in MATCH; KIND is not formatted.
        assert!(eval("'4%2':4%%2", &shared, &nobody));
        assert!(!eval("'4%%2':4%%2", &shared, &nobody));
        // A missing target key fails the check (so `not` of it passes).
        assert!(!eval("True:%(absent)s", &shared, &nobody));
        assert!(eval("not True:%(absent)s", &shared, &nobody));
        assert!(!eval("role:%(absent)s", &shared, &nobody));
    }

    #[test]
    fn credential_checks() {
        let t = target(&[
            ("p", text("p1")),
            ("none", Value::None),
            ("yes", Value::Bool(true)),
        ]);
        let member = creds("p1", &["member", "reader"]);
        assert!(eval("project_id:%(p)s", &t, &member));
        assert!(eval("user_id:u1", &t, &member));
        assert!(!eval("project_id:%(none)s", &t, &member));
        // A credential that is None is Python's "None".
        let unscoped = Credentials::default();
        assert!(eval("project_id:%(none)s", &t, &unscoped));
        assert!(eval("is_admin:False", &t, &unscoped));
        let admin = Credentials {
            is_admin: true,
            ..Credentials::default()
        };
        assert!(eval("is_admin:%(yes)s", &t, &admin));
        // `roles` matches one role exactly, `role` ignoring case.
        assert!(eval("roles:reader", &t, &member));
        assert!(!eval("roles:Reader", &t, &member));
        assert!(eval("role:READER", &t, &member));
        assert!(eval("role:Member", &t, &creds("p1", &["MEMBER"])));
        // Unknown credentials and paths into credentials never match.
        assert!(!eval("domain_id:None", &t, &member));
        assert!(!eval("domain_id.x:p1", &t, &member));
        assert!(fails("project_id.x:p1"));
    }

    #[test]
    fn all_designate_defaults_parse() {
        let names: Vec<&str> = default_rules().map(|(name, _)| name).collect();
        assert_eq!(names.len(), 91);
        for (name, check_str) in default_rules() {
            let check = parse_text_rule(check_str);
            assert!(check.is_ok(), "{name}: {check:?}");
        }
        let policy = Policy::designate_defaults();
        assert_eq!(policy.rule_names().collect::<Vec<_>>(), names);
        assert_eq!(policy.check_str("find_zone_shares"), Some("@"));
        assert_eq!(policy.check_str("no_such_rule"), None);
        assert!(policy.rules.iter().all(|rule| {
            let mut resolved = true;
            rule.check
                .each_reference(&mut |index| resolved &= index.is_some());
            resolved
        }));
    }

    #[test]
    fn default_rule_trees_match_oslo() {
        let policy = Policy::designate_defaults();
        let tree = |name: &str| policy.rules[policy.by_name[name]].check.to_string();
        assert_eq!(
            tree("create_recordset"),
            "(((role:member and project_id:%(project_id)s) and 'PRIMARY':%(zone_type)s) \
             or (role:admin and 'PRIMARY':%(zone_type)s) \
             or (role:admin and 'SECONDARY':%(zone_type)s) \
             or ('True':%(zone_shared)s and 'PRIMARY':%(zone_type)s))"
        );
        assert_eq!(
            tree("get_quotas"),
            "(role:admin or (role:reader and project_id:%(project_id)s) \
             or (True:%(all_tenants)s and role:reader))"
        );
        assert_eq!(
            tree("create_zone_transfer_accept"),
            "((role:admin or (role:member and project_id:%(project_id)s)) \
             or project_id:%(target_project_id)s or None:%(target_project_id)s)"
        );
        assert_eq!(tree("admin"), "(role:admin or is_admin:True)");
    }

    #[test]
    fn zone_rules_per_persona() {
        let policy = Policy::designate_defaults();
        let zone = zone("PRIMARY");
        let admin_elsewhere = creds("p9", &["admin", "member", "reader"]);
        let member = creds("p1", &["member", "reader"]);
        let other_member = creds("p2", &["member", "reader"]);
        let reader = creds("p1", &["reader"]);
        let no_role = creds("p1", &[]);

        assert!(policy.enforce("create_zone", &zone, &admin_elsewhere));
        assert!(policy.enforce("create_zone", &zone, &member));
        assert!(!policy.enforce("create_zone", &zone, &other_member));
        assert!(!policy.enforce("create_zone", &zone, &reader));
        assert!(!policy.enforce("create_zone", &zone, &no_role));

        for rule in ["find_zones", "get_zone"] {
            assert!(policy.enforce(rule, &zone, &reader), "{rule}");
            assert!(
                !policy.enforce(rule, &zone, &creds("p2", &["reader"])),
                "{rule}"
            );
        }
        assert!(!policy.enforce("delete_zone", &zone, &reader));
        assert!(!policy.enforce("abandon_zone", &zone, &member));
        assert!(policy.enforce("abandon_zone", &zone, &admin_elsewhere));

        // A shared zone is visible to every project.
        let mut shared = zone.clone();
        shared.insert("zone_shared", Value::Bool(true));
        assert!(policy.enforce("get_zone", &shared, &creds("p2", &[])));
        assert!(!policy.enforce("update_zone", &shared, &other_member));
    }

    #[test]
    fn recordset_rules_per_persona() {
        let policy = Policy::designate_defaults();
        let admin = creds("p9", &["admin"]);
        let member = creds("p1", &["member"]);
        let other_member = creds("p2", &["member"]);

        let primary = zone("PRIMARY");
        assert!(policy.enforce("create_recordset", &primary, &member));
        assert!(policy.enforce("create_recordset", &primary, &admin));
        assert!(!policy.enforce("create_recordset", &primary, &other_member));

        // Only an admin writes to a secondary zone.
        let secondary = zone("SECONDARY");
        assert!(policy.enforce("create_recordset", &secondary, &admin));
        assert!(!policy.enforce("create_recordset", &secondary, &member));

        // A shared zone takes recordsets from any project, and each project
        // may change its own.
        let mut shared = zone("PRIMARY");
        shared.insert("zone_shared", Value::Bool(true));
        assert!(policy.enforce("create_recordset", &shared, &other_member));
        let mut theirs = zone("PRIMARY");
        theirs.insert("recordset_project_id", text("p2"));
        assert!(policy.enforce("update_recordset", &theirs, &other_member));
        assert!(policy.enforce("delete_recordset", &theirs, &other_member));
        assert!(!policy.enforce("update_recordset", &theirs, &creds("p3", &["member"])));
        let mut theirs_secondary = theirs.clone();
        theirs_secondary.insert("zone_type", text("SECONDARY"));
        assert!(!policy.enforce("update_recordset", &theirs_secondary, &other_member));
    }

    #[test]
    fn quotas_with_all_tenants() {
        let policy = Policy::designate_defaults();
        let reader = creds("p2", &["reader"]);
        let mut quotas = target(&[
            ("project_id", text("p1")),
            ("all_tenants", Value::Bool(false)),
        ]);
        assert!(!policy.enforce("get_quotas", &quotas, &reader));
        assert!(policy.enforce("get_quotas", &quotas, &creds("p1", &["reader"])));
        quotas.insert("all_tenants", Value::Bool(true));
        assert!(policy.enforce("get_quotas", &quotas, &reader));
        assert!(!policy.enforce("get_quotas", &quotas, &creds("p2", &["member"])));
        assert!(!policy.enforce("set_quota", &quotas, &reader));
    }

    #[test]
    fn transfer_accept_for_anyone_when_unaddressed() {
        let policy = Policy::designate_defaults();
        let anyone = creds("p7", &[]);
        let mut accept = target(&[
            ("project_id", text("p1")),
            ("target_project_id", Value::None),
        ]);
        assert!(policy.enforce("create_zone_transfer_accept", &accept, &anyone));
        accept.insert("target_project_id", text("p8"));
        assert!(!policy.enforce("create_zone_transfer_accept", &accept, &anyone));
        accept.insert("target_project_id", text("p7"));
        assert!(policy.enforce("create_zone_transfer_accept", &accept, &anyone));
        assert!(policy.enforce("find_zone_transfer_requests", &Target::new(), &anyone));
    }

    #[test]
    fn unknown_rule_is_checked_as_default() {
        let policy = Policy::designate_defaults();
        let zone = zone("PRIMARY");
        assert!(policy.enforce("no_such_rule", &zone, &creds("p1", &["member"])));
        assert!(!policy.enforce("no_such_rule", &zone, &creds("p1", &["reader"])));
        let strict = policy.with_overrides("default: '!'").expect("parses");
        assert!(!strict.enforce("no_such_rule", &zone, &creds("p9", &["admin"])));
    }

    #[test]
    fn reference_to_unknown_rule_is_the_default_rule() {
        let policy = Policy::designate_defaults()
            .with_overrides("create_zone: rule:no_such_rule and role:member")
            .expect("parses");
        let zone = zone("PRIMARY");
        // default: admin, or a member of the target's project.
        assert!(policy.enforce("create_zone", &zone, &creds("p1", &["member"])));
        assert!(!policy.enforce("create_zone", &zone, &creds("p2", &["member"])));
        let strict = policy.with_overrides("default: '!'").expect("parses");
        assert!(!strict.enforce("create_zone", &zone, &creds("p1", &["member"])));
    }

    #[test]
    fn override_replaces_one_rule() {
        let zone = zone("PRIMARY");
        let member = creds("p1", &["member"]);
        let policy = Policy::designate_defaults()
            .with_overrides("# operator rules\ncreate_zone: role:admin\n")
            .expect("parses");
        assert!(!policy.enforce("create_zone", &zone, &member));
        assert!(policy.enforce("create_zone", &zone, &creds("p9", &["admin"])));
        assert_eq!(policy.check_str("create_zone"), Some("role:admin"));
        // The others keep their defaults.
        assert!(policy.enforce("update_zone", &zone, &member));
        assert_eq!(policy.rule_names().count(), 91);
    }

    #[test]
    fn override_file_forms() {
        let zone = zone("PRIMARY");
        let member = creds("p1", &["member"]);
        // JSON, a new rule referenced by an overridden one.
        let policy = Policy::designate_defaults()
            .with_overrides(r#"{"zone_owner": "role:member and project_id:%(project_id)s", "delete_zone": "rule:zone_owner"}"#)
            .expect("parses");
        assert!(policy.enforce("delete_zone", &zone, &member));
        assert!(!policy.enforce("delete_zone", &zone, &creds("p9", &["admin"])));
        assert_eq!(policy.rule_names().count(), 92);
        // The old list-of-lists form: an `or` of `and`s.
        let policy = Policy::designate_defaults()
            .with_overrides(r#"{"delete_zone": [["role:member", "project_id:%(project_id)s"], ["role:admin"]], "create_zone": [], "update_zone": [[]]}"#)
            .expect("parses");
        assert!(policy.enforce("delete_zone", &zone, &member));
        assert!(policy.enforce("delete_zone", &zone, &creds("p9", &["admin"])));
        assert!(!policy.enforce("delete_zone", &zone, &creds("p2", &["member"])));
        assert!(policy.enforce("create_zone", &zone, &creds("p2", &[])));
        assert!(!policy.enforce("update_zone", &zone, &creds("p9", &["admin"])));
        // Empty and null checks allow everyone, as in oslo.policy.
        let policy = Policy::designate_defaults()
            .with_overrides("delete_zone: ''\nupdate_zone:\n")
            .expect("parses");
        assert!(policy.enforce("delete_zone", &zone, &creds("p2", &[])));
        assert!(policy.enforce("update_zone", &zone, &creds("p2", &[])));
        // An empty file changes nothing.
        for empty in ["", "# nothing\n", "{}"] {
            let policy = Policy::designate_defaults()
                .with_overrides(empty)
                .expect("parses");
            assert!(!policy.enforce("create_zone", &zone, &creds("p2", &["member"])));
        }
    }

    #[test]
    fn bad_override_files_are_refused() {
        let error = Policy::designate_defaults()
            .with_overrides("create_zone: role:admin and\n")
            .expect_err("does not parse");
        assert!(
            matches!(&error, crate::Error::Policy { rule, .. } if rule == "create_zone"),
            "{error:?}"
        );
        for bad in [
            "create_zone: !\n",
            "create_zone: ! role:admin\n",
            "create_zone: 1\n",
            "create_zone: true\n",
            "create_zone: {a: b}\n",
            "create_zone: [[1]]\n",
            "- create_zone\n",
            "role:admin\n",
            "1: role:admin\n",
            "create_zone: [unclosed\n",
        ] {
            let result = Policy::designate_defaults().with_overrides(bad);
            assert!(
                matches!(result, Err(crate::Error::Policy { .. })),
                "{bad:?}: {result:?}"
            );
        }
    }

    #[test]
    fn cycles_deny_instead_of_overflowing() {
        let zone = zone("PRIMARY");
        let admin = creds("p1", &["admin"]);
        let policy = Policy::designate_defaults()
            .with_overrides("a: rule:a\nb: rule:c or role:admin\nc: rule:b\nd: not rule:d\ne: '@ or rule:e'\ncreate_zone: rule:a or role:admin\n")
            .expect("parses");
        assert!(!policy.enforce("a", &zone, &admin));
        assert!(!policy.enforce("b", &zone, &admin));
        assert!(!policy.enforce("d", &zone, &admin));
        // Short-circuited before the cycle, as in Python.
        assert!(policy.enforce("e", &zone, &admin));
        // The error reaches the top: no `or` recovers from it.
        assert!(!policy.enforce("create_zone", &zone, &admin));
        assert!(policy.reaches(policy.by_name["a"], policy.by_name["a"]));
        assert!(!policy.reaches(policy.by_name["create_zone"], policy.by_name["create_zone"]));
    }

    #[test]
    fn renamed_deprecated_rule_follows_its_old_name() {
        let request = target(&[("project_id", text("p1"))]);
        let foo = creds("p9", &["foo"]);
        let policy = Policy::designate_defaults()
            .with_overrides("create_zone_transfer_request: role:foo\n")
            .expect("parses");
        assert!(policy.enforce("get_zone_transfer_request_detailed", &request, &foo));
        assert_eq!(
            policy.check_str("get_zone_transfer_request_detailed"),
            Some("role:foo")
        );
        // Not when the file sets the new name too, or the old default.
        let policy = Policy::designate_defaults()
            .with_overrides("create_zone_transfer_request: role:foo\nget_zone_transfer_request_detailed: role:bar\n")
            .expect("parses");
        assert!(!policy.enforce("get_zone_transfer_request_detailed", &request, &foo));
        let policy = policy
            .with_overrides("create_zone_transfer_request: rule:admin_or_owner\n")
            .expect("parses");
        assert!(!policy.enforce("get_zone_transfer_request_detailed", &request, &foo));
        let policy = Policy::designate_defaults()
            .with_overrides("create_zone_transfer_request: role:foo\n")
            .and_then(|policy| {
                policy.with_overrides("create_zone_transfer_request: (rule:admin_or_owner)\n")
            })
            .expect("parses");
        assert!(!policy.enforce("get_zone_transfer_request_detailed", &request, &foo));
        assert!(policy.enforce(
            "get_zone_transfer_request_detailed",
            &request,
            &creds("p1", &["reader"])
        ));
    }
}
