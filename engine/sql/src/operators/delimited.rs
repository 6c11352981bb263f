//! The DELIMITED format (ksqlDB's CSV): one line of fields split at the delimiter (`,` by
//! default, VALUE_DELIMITER otherwise; `TAB` and `SPACE` by name), `"`-quoted fields with `""`
//! for a quote, an empty field is NULL. Owns text ↔ field strings only; typing is `value`'s.

use crate::error::SqlError;
use crate::value::Value;

/// VALUE_DELIMITER's character.
pub fn delimiter(prop: Option<&str>) -> Result<char, SqlError> {
    match prop {
        None => Ok(','),
        Some(p) if p.eq_ignore_ascii_case("TAB") => Ok('\t'),
        Some(p) if p.eq_ignore_ascii_case("SPACE") => Ok(' '),
        Some(p) if p.chars().count() == 1 => Ok(p.chars().next().unwrap_or(',')),
        Some(p) => Err(SqlError::statement(format!(
            "Invalid delimiter value: '{p}'. Delimiter must be a single character or TAB or SPACE"
        ))),
    }
}

/// The fields of a line (None for an empty field).
pub fn split(line: &str, delim: char) -> Result<Vec<Option<String>>, String> {
    let mut out = Vec::new();
    let mut chars = line.trim_end_matches(['\r', '\n']).chars().peekable();
    loop {
        let mut field = String::new();
        let mut quoted = false;
        if chars.peek() == Some(&'"') {
            quoted = true;
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err("unterminated quoted field".into()),
                }
            }
        }
        loop {
            match chars.peek() {
                Some(&c) if c == delim => break,
                None => break,
                Some(_) if quoted => return Err("text after a quoted field".into()),
                Some(&c) => {
                    field.push(c);
                    chars.next();
                }
            }
        }
        out.push((quoted || !field.is_empty()).then_some(field));
        if chars.next().is_none() {
            return Ok(out);
        }
    }
}

/// One line of `values` (NULL as an empty field); complex types have no DELIMITED form.
pub fn join(values: &[&Value], delim: char) -> Result<String, SqlError> {
    let mut out = String::new();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(delim);
        }
        let text = match v {
            Value::Null => continue,
            Value::String(s) => s.clone(),
            // ksqlDB's DELIMITED: DECIMAL as its plain digits, BYTES as base64, TIMESTAMP,
            // DATE and TIME as their epoch numbers.
            Value::Decimal(d) => d.to_plain_string(),
            Value::Bytes(b) => crate::value::base64(b),
            Value::Array(_) | Value::Map(_) | Value::Struct(_) => {
                return Err(SqlError::statement(
                    "The 'DELIMITED' format does not support complex types (ARRAY, MAP, STRUCT)",
                ))
            }
            other => other.to_json().to_string(),
        };
        if text.contains([delim, '"', '\n', '\r']) || text.is_empty() {
            out.push('"');
            out.push_str(&text.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&text);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_quotes_and_nulls() {
        assert_eq!(
            split(r#"1,"a,""b""",,x"#, ',').unwrap(),
            vec![
                Some("1".into()),
                Some(r#"a,"b""#.into()),
                None,
                Some("x".into())
            ]
        );
        assert_eq!(split("a\tb", '\t').unwrap().len(), 2);
        assert!(split(r#""open"#, ',').is_err());
        assert!(split(r#""a"b,c"#, ',').is_err());
    }

    #[test]
    fn joins_and_splits_back() {
        let vals = [
            Value::Int(1),
            Value::String("a|b".into()),
            Value::Null,
            Value::Double(2.5),
            Value::String(String::new()),
        ];
        let refs: Vec<&Value> = vals.iter().collect();
        let line = join(&refs, '|').unwrap();
        assert_eq!(line, r#"1|"a|b"||2.5|"""#);
        let back = split(&line, '|').unwrap();
        assert_eq!(back[1].as_deref(), Some("a|b"));
        assert_eq!(back[2], None);
        assert_eq!(back[4].as_deref(), Some(""));
        assert!(join(&[&Value::Array(vec![])], ',').is_err());
        assert!(delimiter(Some("ab")).is_err());
        assert_eq!(delimiter(Some("TAB")).unwrap(), '\t');
    }
}
