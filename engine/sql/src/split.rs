//! A request's text as ksqlDB sees it: statements split at `;` (not inside strings, quoted
//! identifiers or comments), each with its original text and position, and `${name}`
//! variables substituted as ksqlDB's `DEFINE` makes them. Text in, text out: no I/O.

use std::collections::BTreeMap;

/// One statement's place in the request text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chunk {
    /// Byte range of the statement without its `;`, from its first token.
    pub start: usize,
    pub end: usize,
    /// Byte range end including the `;` when there is one.
    pub end_with_semicolon: usize,
    pub semicolon: bool,
    /// 1-based line and column of `start`.
    pub line: u64,
    pub column: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Normal,
    Str,
    Quoted(char),
    LineComment,
    BlockComment,
}

/// Walk `text`, calling `f(byte_index, char, state_before_char)`; the state machine knows
/// `'...'` (with `''`), `"..."`, `` `...` ``, `-- ...` and `/* ... */`.
fn scan(text: &str, mut f: impl FnMut(usize, char, State)) {
    let mut state = State::Normal;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        f(i, c, state);
        let next = chars.peek().map(|&(_, n)| n);
        state = match state {
            State::Normal => match c {
                '\'' => State::Str,
                '"' | '`' => State::Quoted(c),
                '-' if next == Some('-') => State::LineComment,
                '/' if next == Some('*') => {
                    // Consume the '*' so that `/*/` does not close the comment.
                    if let Some((j, star)) = chars.next() {
                        f(j, star, State::BlockComment);
                    }
                    State::BlockComment
                }
                _ => State::Normal,
            },
            State::Str => {
                if c == '\'' {
                    if next == Some('\'') {
                        if let Some((j, q)) = chars.next() {
                            f(j, q, State::Str);
                        }
                        State::Str
                    } else {
                        State::Normal
                    }
                } else {
                    State::Str
                }
            }
            State::Quoted(q) => {
                if c == q {
                    if next == Some(q) {
                        if let Some((j, q2)) = chars.next() {
                            f(j, q2, State::Quoted(q));
                        }
                        State::Quoted(q)
                    } else {
                        State::Normal
                    }
                } else {
                    State::Quoted(q)
                }
            }
            State::LineComment => {
                if c == '\n' {
                    State::Normal
                } else {
                    State::LineComment
                }
            }
            State::BlockComment => {
                if c == '*' && next == Some('/') {
                    if let Some((j, slash)) = chars.next() {
                        f(j, slash, State::BlockComment);
                    }
                    State::Normal
                } else {
                    State::BlockComment
                }
            }
        };
    }
}

/// Split a request into statements; statements that are only whitespace and comments are
/// dropped.
pub(crate) fn split(text: &str) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut current: Option<(usize, u64, u64)> = None; // start, line, column
    let mut last_content_end = 0usize;
    let (mut line, mut column) = (1u64, 1u64);
    scan(text, |i, c, state| {
        let is_comment_start = state == State::Normal
            && ((c == '-' && text[i + 1..].starts_with('-'))
                || (c == '/' && text[i + 1..].starts_with('*')));
        let in_comment =
            matches!(state, State::LineComment | State::BlockComment) || is_comment_start;
        if state == State::Normal && c == ';' {
            if let Some((start, l, col)) = current.take() {
                chunks.push(Chunk {
                    start,
                    end: i,
                    end_with_semicolon: i + 1,
                    semicolon: true,
                    line: l,
                    column: col,
                });
            }
        } else if !in_comment && !c.is_whitespace() {
            if current.is_none() {
                current = Some((i, line, column));
            }
            last_content_end = i + c.len_utf8();
        }
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    });
    if let Some((start, l, col)) = current {
        let end = last_content_end.max(start);
        chunks.push(Chunk {
            start,
            end,
            end_with_semicolon: end,
            semicolon: false,
            line: l,
            column: col,
        });
    }
    chunks
}

/// A `${name}` that cannot be substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadVariable {
    /// 1-based position of the `$`, relative to the text given.
    pub line: u64,
    pub column: u64,
    /// The variable's value, or `None` when it is not defined.
    pub value: Option<String>,
    pub name: String,
}

impl BadVariable {
    /// ksqlDB's wording, with the position where the request has the `$`.
    pub fn message(&self, line: u64, column: u64) -> String {
        match &self.value {
            Some(v) => format!("Illegal argument at Line: {line}, Col: {column}. Got: '{v}'"),
            None => format!(
                "Illegal argument at Line: {line}, Col: {column}. Got: '${{{name}}}' \
                 (no variable '{name}' is defined)",
                name = self.name
            ),
        }
    }
}

fn variable_at(text: &str, i: usize) -> Option<(&str, usize)> {
    let rest = text[i..].strip_prefix("${")?;
    let close = rest.find('}')?;
    let name = &rest[..close];
    let mut chars = name.chars();
    let first = chars.next()?;
    if !(first.is_ascii_alphabetic() || first == '_')
        || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '@')
    {
        return None;
    }
    Some((name, 2 + close + 1))
}

/// What a variable may stand for outside a string: an identifier (plain or quoted) or a
/// literal (quoted string, boolean, number), as ksqlDB checks it.
fn valid_bare_value(v: &str) -> bool {
    let plain_ident = |s: &str| {
        let mut cs = s.chars();
        matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
            && cs.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '@')
    };
    let quoted = |s: &str, q: char| {
        s.len() >= 2
            && s.starts_with(q)
            && s.ends_with(q)
            && !s[1..s.len() - 1]
                .replace(&format!("{q}{q}"), "")
                .contains(q)
    };
    let number = |s: &str| {
        let s = s.strip_prefix('-').unwrap_or(s);
        !s.is_empty()
            && s.chars().any(|c| c.is_ascii_digit())
            && s.chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
            && s.parse::<f64>().is_ok()
    };
    plain_ident(v)
        || quoted(v, '`')
        || quoted(v, '"')
        || quoted(v, '\'')
        || v.eq_ignore_ascii_case("true")
        || v.eq_ignore_ascii_case("false")
        || number(v)
}

/// Replace `${name}` in `text` with the variables' values: inside string literals the value
/// is inserted as text (quotes doubled); elsewhere it must be an identifier or a literal.
/// Comments and quoted identifiers are left alone; so is a `${name}` in a string when the
/// variable is not defined.
pub(crate) fn substitute(
    text: &str,
    variables: &BTreeMap<String, String>,
) -> Result<String, BadVariable> {
    if !text.contains("${") {
        return Ok(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut skip_until = 0usize;
    let mut error = None;
    let (mut line, mut column) = (1u64, 1u64);
    scan(text, |i, c, state| {
        let (l, col) = (line, column);
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
        if i < skip_until || error.is_some() {
            return;
        }
        if c == '$' && matches!(state, State::Normal | State::Str) {
            if let Some((name, len)) = variable_at(text, i) {
                match (variables.get(name), state) {
                    (Some(value), State::Str) => {
                        out.push_str(&value.replace('\'', "''"));
                        skip_until = i + len;
                        return;
                    }
                    (Some(value), _) if valid_bare_value(value) => {
                        out.push_str(value);
                        skip_until = i + len;
                        return;
                    }
                    (Some(value), _) => {
                        error = Some(BadVariable {
                            line: l,
                            column: col,
                            value: Some(value.clone()),
                            name: name.to_string(),
                        });
                        return;
                    }
                    (None, State::Str) => {}
                    (None, _) => {
                        error = Some(BadVariable {
                            line: l,
                            column: col,
                            value: None,
                            name: name.to_string(),
                        });
                        return;
                    }
                }
            }
        }
        out.push(c);
    });
    match error {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<(&str, &str)> {
        split(s)
            .into_iter()
            .map(|c| (&s[c.start..c.end], &s[c.start..c.end_with_semicolon]))
            .collect()
    }

    #[test]
    fn splits_outside_strings_identifiers_and_comments() {
        let s =
            "-- lead; comment\nSELECT 'a;b' FROM `x;y`;  /* c; */ SHOW STREAMS ;\n\nLIST TOPICS";
        assert_eq!(
            texts(s),
            vec![
                ("SELECT 'a;b' FROM `x;y`", "SELECT 'a;b' FROM `x;y`;"),
                ("SHOW STREAMS ", "SHOW STREAMS ;"),
                ("LIST TOPICS", "LIST TOPICS"),
            ]
        );
        let chunks = split(s);
        assert_eq!((chunks[0].line, chunks[0].column), (2, 1));
        assert_eq!((chunks[2].line, chunks[2].column), (4, 1));
        assert!(split("  -- only a comment\n /* and; this */ ").is_empty());
        assert_eq!(
            texts("SELECT 'it''s;' FROM t;"),
            vec![("SELECT 'it''s;' FROM t", "SELECT 'it''s;' FROM t;")]
        );
    }

    #[test]
    fn substitutes_like_ksqldb() {
        let mut vars = BTreeMap::new();
        vars.insert("topic".to_string(), "it's".to_string());
        vars.insert("name".to_string(), "my_stream".to_string());
        vars.insert("bad".to_string(), "a; DROP STREAM x".to_string());
        assert_eq!(
            substitute(
                "CREATE STREAM ${name} WITH (kafka_topic='${topic}') -- ${bad}",
                &vars
            )
            .unwrap(),
            "CREATE STREAM my_stream WITH (kafka_topic='it''s') -- ${bad}"
        );
        assert_eq!(
            substitute("SELECT '${nope}' FROM `${bad}`", &vars).unwrap(),
            "SELECT '${nope}' FROM `${bad}`"
        );
        let e = substitute("SELECT *\nFROM ${bad}", &vars).unwrap_err();
        assert_eq!((e.line, e.column), (2, 6));
        assert!(substitute("SELECT * FROM ${nope}", &vars).is_err());
    }
}
