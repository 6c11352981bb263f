//! A small syntax highlighter for schemas: JSON (Avro and JSON Schema) and `.proto`; and
//! ksqlDB's SQL (its tokenizer lives in `sql_lang`). It
//! never fails: text that does not parse still gets coloured as far as it goes. Tokens
//! become `<span class="tok-…">`, coloured by the stylesheet in both themes.

use leptos::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tok {
    Plain,
    /// An object key (JSON).
    Key,
    Str,
    Num,
    /// `true`, `false`, `null`.
    Lit,
    Punct,
    /// A keyword (`message`, `enum`, `syntax`...).
    Kw,
    /// A type: Avro's type names in JSON strings, Protobuf scalars and message types.
    Type,
    Comment,
}

impl Tok {
    pub fn class(self) -> &'static str {
        match self {
            Tok::Plain => "",
            Tok::Key => "tok-key",
            Tok::Str => "tok-str",
            Tok::Num => "tok-num",
            Tok::Lit => "tok-lit",
            Tok::Punct => "tok-punct",
            Tok::Kw => "tok-kw",
            Tok::Type => "tok-type",
            Tok::Comment => "tok-comment",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Json,
    Proto,
    Sql,
}

/// `PROTOBUF` is .proto text; everything else (AVRO, JSON) is JSON.
pub fn lang_of(schema_type: &str) -> Lang {
    if schema_type.eq_ignore_ascii_case("PROTOBUF") {
        Lang::Proto
    } else {
        Lang::Json
    }
}

const AVRO_TYPES: &[&str] = &[
    "record", "enum", "array", "map", "fixed", "null", "boolean", "int", "long", "float", "double",
    "bytes", "string", "object", "integer", "number",
];

const PROTO_KEYWORDS: &[&str] = &[
    "syntax",
    "edition",
    "package",
    "import",
    "public",
    "weak",
    "option",
    "message",
    "enum",
    "oneof",
    "map",
    "repeated",
    "optional",
    "required",
    "reserved",
    "extensions",
    "extend",
    "service",
    "rpc",
    "returns",
    "stream",
    "to",
    "max",
    "group",
];

const PROTO_SCALARS: &[&str] = &[
    "double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32",
    "fixed64", "sfixed32", "sfixed64", "bool", "string", "bytes",
];

/// The text as tokens (concatenated, they are the text again).
pub fn tokens(text: &str, lang: Lang) -> Vec<(Tok, String)> {
    match lang {
        Lang::Json => json_tokens(text),
        Lang::Proto => proto_tokens(text),
        Lang::Sql => crate::sql_lang::tokens(text),
    }
}

/// The tokens of each line (a token spanning lines is cut at each newline).
pub fn lines(text: &str, lang: Lang) -> Vec<Vec<(Tok, String)>> {
    let mut out = vec![Vec::new()];
    for (tok, s) in tokens(text, lang) {
        let mut parts = s.split('\n');
        if let Some(first) = parts.next() {
            if !first.is_empty() {
                out.last_mut()
                    .expect("one line")
                    .push((tok, first.to_string()));
            }
        }
        for part in parts {
            out.push(Vec::new());
            if !part.is_empty() {
                out.last_mut()
                    .expect("one line")
                    .push((tok, part.to_string()));
            }
        }
    }
    out
}

fn take_while(chars: &[char], mut i: usize, f: impl Fn(char) -> bool) -> usize {
    while i < chars.len() && f(chars[i]) {
        i += 1;
    }
    i
}

/// The end of a string starting at `i` (a quote): after the closing quote, or at the end of
/// the line when it is not closed.
fn string_end(chars: &[char], i: usize) -> usize {
    let quote = chars[i];
    let mut j = i + 1;
    while j < chars.len() {
        match chars[j] {
            '\\' => j += 2,
            '\n' => return j,
            c if c == quote => return j + 1,
            _ => j += 1,
        }
    }
    chars.len()
}

fn json_tokens(text: &str) -> Vec<(Tok, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<(Tok, String)> = Vec::new();
    let mut i = 0;
    let mut push = |tok: Tok, a: usize, b: usize| {
        let s: String = chars[a..b].iter().collect();
        match out.last_mut() {
            Some((t, prev)) if *t == tok => prev.push_str(&s),
            _ => out.push((tok, s)),
        }
    };
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            let j = take_while(&chars, i, char::is_whitespace);
            push(Tok::Plain, i, j);
            i = j;
        } else if c == '"' {
            let j = string_end(&chars, i);
            let after = take_while(&chars, j, |c| c == ' ' || c == '\t');
            let tok = if chars.get(after) == Some(&':') {
                Tok::Key
            } else {
                let inner: String = chars[i + 1..j.saturating_sub(1).max(i + 1)]
                    .iter()
                    .collect();
                if AVRO_TYPES.contains(&inner.as_str()) {
                    Tok::Type
                } else {
                    Tok::Str
                }
            };
            push(tok, i, j);
            i = j;
        } else if c.is_ascii_digit()
            || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let j = take_while(&chars, i + 1, |c| c.is_ascii_digit() || "eE+-.".contains(c));
            push(Tok::Num, i, j);
            i = j;
        } else if c.is_alphabetic() {
            let j = take_while(&chars, i, |c| c.is_alphanumeric() || c == '_');
            let word: String = chars[i..j].iter().collect();
            let tok = if matches!(word.as_str(), "true" | "false" | "null") {
                Tok::Lit
            } else {
                Tok::Plain
            };
            push(tok, i, j);
            i = j;
        } else if "{}[],:".contains(c) {
            push(Tok::Punct, i, i + 1);
            i += 1;
        } else {
            push(Tok::Plain, i, i + 1);
            i += 1;
        }
    }
    out
}

fn proto_tokens(text: &str) -> Vec<(Tok, String)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<(Tok, String)> = Vec::new();
    let mut i = 0;
    let mut push = |tok: Tok, a: usize, b: usize| {
        let s: String = chars[a..b].iter().collect();
        match out.last_mut() {
            Some((t, prev)) if *t == tok => prev.push_str(&s),
            _ => out.push((tok, s)),
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            let j = take_while(&chars, i, char::is_whitespace);
            push(Tok::Plain, i, j);
            i = j;
        } else if c == '/' && next == Some('/') {
            let j = take_while(&chars, i, |c| c != '\n');
            push(Tok::Comment, i, j);
            i = j;
        } else if c == '/' && next == Some('*') {
            let mut j = i + 2;
            while j < chars.len() && !(chars[j] == '*' && chars.get(j + 1) == Some(&'/')) {
                j += 1;
            }
            let j = (j + 2).min(chars.len());
            push(Tok::Comment, i, j);
            i = j;
        } else if c == '"' || c == '\'' {
            let j = string_end(&chars, i);
            push(Tok::Str, i, j);
            i = j;
        } else if c.is_ascii_digit() || (c == '-' && next.is_some_and(|d| d.is_ascii_digit())) {
            let j = take_while(&chars, i + 1, |c| c.is_ascii_alphanumeric() || c == '.');
            push(Tok::Num, i, j);
            i = j;
        } else if c.is_alphabetic() || c == '_' {
            let j = take_while(&chars, i, |c| c.is_alphanumeric() || c == '_' || c == '.');
            let word: String = chars[i..j].iter().collect();
            let last = word.rsplit('.').next().unwrap_or("");
            let tok = if PROTO_KEYWORDS.contains(&word.as_str()) {
                Tok::Kw
            } else if PROTO_SCALARS.contains(&word.as_str()) {
                Tok::Type
            } else if matches!(word.as_str(), "true" | "false" | "inf" | "nan") {
                Tok::Lit
            } else if last.chars().next().is_some_and(char::is_uppercase) {
                Tok::Type
            } else {
                Tok::Plain
            };
            push(tok, i, j);
            i = j;
        } else if "{}()[]<>;=,".contains(c) {
            push(Tok::Punct, i, i + 1);
            i += 1;
        } else {
            push(Tok::Plain, i, i + 1);
            i += 1;
        }
    }
    out
}

/// One line's tokens as spans.
pub fn line_view(line: Vec<(Tok, String)>) -> impl IntoView {
    line.into_iter()
        .map(|(tok, s)| match tok {
            Tok::Plain => view! { <span>{s}</span> }.into_any(),
            t => view! { <span class=t.class()>{s}</span> }.into_any(),
        })
        .collect_view()
}

/// A read-only, highlighted, line-numbered view of a schema.
#[component]
pub fn CodeView(
    #[prop(into)] text: Signal<String>,
    #[prop(into)] lang: Signal<Lang>,
    #[prop(optional)] testid: &'static str,
) -> impl IntoView {
    view! {
        <div class="code-view" data-testid=testid>
            {move || {
                lines(&text.get(), lang.get())
                    .into_iter()
                    .enumerate()
                    .map(|(i, l)| {
                        view! {
                            <div class="cv-line">
                                <span class="cv-ln">{i + 1}</span>
                                <span class="cv-code">{line_view(l)}</span>
                            </div>
                        }
                    })
                    .collect_view()
            }}
        </div>
    }
}
