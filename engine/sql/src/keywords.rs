//! ksqlDB's word lists: its reserved words (every keyword of its grammar that is not in its
//! `nonReserved` rule), its statement words, and its window units. No I/O.

use crate::ast::TimeUnit;

/// Words that cannot be unquoted identifiers in ksqlDB.
const RESERVED: &[&str] = &[
    "ADVANCE",
    "ALL",
    "AND",
    "AS",
    "AT",
    "BEGINNING",
    "BETWEEN",
    "BY",
    "CASE",
    "CAST",
    "CATALOG",
    "CONNECTOR",
    "CONNECTORS",
    "CREATE",
    "DAYS",
    "DECIMAL",
    "DELETE",
    "DESCRIBE",
    "DISTINCT",
    "DROP",
    "ELSE",
    "END",
    "EXISTS",
    "EXPORT",
    "EXTENDED",
    "FALSE",
    "FROM",
    "FULL",
    "GROUP",
    "HAVING",
    "HOPPING",
    "HOURS",
    "IN",
    "INNER",
    "INSERT",
    "INTO",
    "IS",
    "JOIN",
    "LEFT",
    "LIKE",
    "LIMIT",
    "LIST",
    "LOAD",
    "MATERIALIZED",
    "MILLISECOND",
    "MILLISECONDS",
    "MINUTES",
    "MONTHS",
    "NAMESPACE",
    "NOT",
    "NULL",
    "ON",
    "OR",
    "OUTER",
    "PRINT",
    "PROPERTIES",
    "QUERIES",
    "QUERY",
    "RENAME",
    "RETENTION",
    "RIGHT",
    "RUN",
    "SAMPLE",
    "SCRIPT",
    "SECONDS",
    "SELECT",
    "SIZE",
    "STREAM",
    "STREAMS",
    "TABLE",
    "TERMINATE",
    "THEN",
    "TO",
    "TOPIC",
    "TOPICS",
    "TRUE",
    "TUMBLING",
    "UNSET",
    "VALUES",
    "VIEW",
    "WHEN",
    "WHERE",
    "WINDOW",
    "WITH",
    "WITHIN",
    "YEARS",
];

/// The first words of statements, for "Did you mean" on an unknown statement.
pub const COMMANDS: &[&str] = &[
    "SELECT",
    "CREATE",
    "INSERT",
    "DESCRIBE",
    "PRINT",
    "EXPLAIN",
    "SHOW",
    "LIST",
    "TERMINATE",
    "PAUSE",
    "RESUME",
    "DROP",
    "SET",
    "DEFINE",
    "UNDEFINE",
    "UNSET",
    "ASSERT",
    "ALTER",
];

/// Is `word` (any case) reserved in ksqlDB?
pub fn is_reserved(word: &str) -> bool {
    let upper = word.to_ascii_uppercase();
    RESERVED.binary_search(&upper.as_str()).is_ok()
}

/// Can `name` (canonical) be written without quotes and read back as itself?
pub fn is_plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_uppercase() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '@')
        && !is_reserved(name)
}

/// A window unit word (singular or plural, any case).
pub fn time_unit(word: &str) -> Option<TimeUnit> {
    Some(match word.to_ascii_uppercase().as_str() {
        "MILLISECOND" | "MILLISECONDS" => TimeUnit::Milliseconds,
        "SECOND" | "SECONDS" => TimeUnit::Seconds,
        "MINUTE" | "MINUTES" => TimeUnit::Minutes,
        "HOUR" | "HOURS" => TimeUnit::Hours,
        "DAY" | "DAYS" => TimeUnit::Days,
        _ => return None,
    })
}

/// The statement word closest to `word` (Levenshtein distance), as ksqlDB suggests it.
pub fn closest_command(word: &str) -> &'static str {
    let upper = word.to_ascii_uppercase();
    let mut best = (usize::MAX, COMMANDS[0]);
    for command in COMMANDS {
        let d = levenshtein(command, &upper);
        if d < best.0 {
            best = (d, command);
        }
    }
    best.1
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_list_is_sorted_for_binary_search() {
        let mut sorted = RESERVED.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, RESERVED);
    }

    #[test]
    fn suggestions_and_identifiers() {
        assert_eq!(closest_command("PRONT"), "PRINT");
        assert_eq!(closest_command("selec"), "SELECT");
        assert!(is_reserved("size") && is_reserved("FROM"));
        assert!(!is_reserved("KEY") && !is_reserved("VALUE") && !is_reserved("EMIT"));
        assert!(is_plain_identifier("LOGS_STREAM") && !is_plain_identifier("logs"));
        assert!(!is_plain_identifier("1A") && !is_plain_identifier("WITH.DOT"));
    }
}
