//! Syntax errors carry ksqlDB's wording and the 1-based line and column of the offending
//! token in the whole request; no input makes the parser panic or overflow its stack.

use sluice_sql::{parse, KsqlParser, SqlError};

fn err(sql: &str) -> SqlError {
    parse(sql).expect_err(sql)
}

fn at(sql: &str) -> (u64, u64, String) {
    let e = err(sql);
    (e.line(), e.column(), e.to_string())
}

#[test]
fn unknown_statement_suggests_the_closest_one() {
    let (line, column, text) = at("PRONT `NON_EXISTING_TOPIC`;");
    assert_eq!((line, column), (1, 1));
    assert_eq!(
        text,
        "line 1:1: Syntax Error\nUnknown statement 'PRONT'\nDid you mean 'PRINT'?"
    );
    assert!(at("SELCT * FROM s;").2.contains("Did you mean 'SELECT'?"));
}

#[test]
fn mismatched_input_names_the_token_and_the_expectation() {
    let (line, column, text) = at("CREATE STREAM bar AD SELECT * FROM foo;");
    assert_eq!((line, column), (1, 19));
    assert_eq!(
        text,
        "line 1:19: Syntax Error\nmismatched input 'AD' expecting ';'"
    );

    let (line, column, text) = at("SELECT * FROM s WINDOW TUMBLING (SIZE 1 WEEK) GROUP BY a;");
    assert_eq!((line, column), (1, 41));
    assert!(text.contains("mismatched input 'WEEK' expecting {'DAY', 'HOUR'"));

    // A missing FROM: the select list ends where ksqlDB expects ',' or FROM.
    let (line, column, text) = at("SELECT a, b\n  WHERE x = 1;");
    assert_eq!((line, column), (2, 3));
    assert!(text.ends_with("mismatched input 'WHERE' expecting {',', 'FROM'}"));
}

#[test]
fn positions_are_in_the_whole_request() {
    let sql = "SHOW STREAMS;\n\n  -- comment\n  CREATE STREAM s (a INT, size INT)\n  WITH (kafka_topic='s');";
    let e = err(sql);
    assert_eq!((e.line(), e.column()), (4, 27));
    assert!(e
        .message()
        .starts_with("\"size\" is a reserved keyword and it can't be used as an identifier"));
    assert_eq!(
        e.statement_text(),
        "CREATE STREAM s (a INT, size INT)\n  WITH (kafka_topic='s');"
    );
    // Two statements on one line: the column counts from the line's start.
    let e = err("SHOW TABLES; SELECT * FROM WHERE;");
    assert_eq!((e.line(), e.column()), (1, 28));
}

#[test]
fn running_out_of_tokens_is_reported_at_the_semicolon() {
    let e = err("SELECT * FROM;");
    assert_eq!((e.line(), e.column()), (1, 14));
    assert_eq!(e.message(), "mismatched input ';' expecting an identifier");
    // Without a semicolon it is the end of input.
    assert!(
        err("SELECT * FROM").message().contains("'<EOF>'")
            || err("SELECT * FROM").message().contains("<EOF>")
    );
    // An unclosed bracket gets ksqlDB's hint.
    let e = err("SELECT * FROM s WHERE (a = 1;");
    assert_eq!(
        e.message(),
        "Syntax error at or near \";\"\n'}', ']', or ')' is missing"
    );
}

#[test]
fn qtt_parse_failures_match_ksqldb() {
    // QTT "cast to NULL": ksqlDB: "Syntax error at or near 'NULL'" at the NULL.
    let e = err("CREATE STREAM OUTPUT AS SELECT ID, cast(f0 as NULL) FROM TEST;");
    assert_eq!((e.line(), e.column()), (1, 47));
    assert!(e.message().contains("Syntax error at or near 'NULL'"));
    // QTT "empty IN list": a syntax error.
    let e = err("CREATE STREAM OUTPUT AS SELECT * FROM INPUT WHERE ID IN ( );");
    assert!(matches!(e, SqlError::Syntax { .. }));
    assert_eq!((e.line(), e.column()), (1, 59));
}

#[test]
fn non_ksqldb_sql_is_rejected() {
    for sql in [
        "SELECT * FROM a, b;",
        "SELECT * FROM s WHERE x IN (SELECT y FROM t);",
        "SELECT * FROM s WHERE EXISTS (SELECT 1 FROM t);",
        "SELECT * FROM s ORDER BY a;",
        "SELECT a FROM s UNION SELECT a FROM t;",
        "SELECT a::INT FROM s;",
        "SELECT a.b.c FROM s;",
        "SELECT x ILIKE 'a' FROM s;",
        "SELECT * FROM s WINDOW TUMBLING (SIZE 1 SECOND, RETENTION 1 DAY, RETENTION 2 DAYS) GROUP BY a;",
        "CREATE STREAM s (a INT) WITH (kafka_topic=;",
        "CREATE STREAM s AS SELECT * FROM t WITH (kafka_topic='x');",
        "INSERT INTO s (a) SELECT * FROM t;",
        "DROP STREAM;",
        "SELECT 99999999999999999999 FROM s;",
        "SELECT f(x => 1) FROM s;",
        "SELECT f(a, x => 1, b) FROM s;",
    ] {
        assert!(parse(sql).is_err(), "should not parse: {sql}");
    }
}

#[test]
fn variables_follow_define_in_order() {
    let mut parser = KsqlParser::new();
    let parsed = parser
        .parse("DEFINE t = 'orders'; SELECT * FROM ${t} EMIT CHANGES; UNDEFINE t;")
        .unwrap();
    assert_eq!(
        parsed[1].statement.to_string(),
        "SELECT * FROM ORDERS EMIT CHANGES"
    );
    assert_eq!(parsed[1].text, "SELECT * FROM ${t} EMIT CHANGES;");
    assert!(parser.variables.is_empty());
    let e = parser.parse("SELECT * FROM x WHERE a = ${t};").unwrap_err();
    assert!(matches!(e, SqlError::IllegalArgument { .. }));
    assert_eq!((e.line(), e.column()), (1, 27));
    assert!(e.message().contains("no variable 't' is defined"));
    // Substitution can be switched off (ksql.variable.substitution.enable=false).
    parser.substitute_variables = false;
    parser.variables.insert("t".into(), "orders".into());
    assert!(parser.parse("SELECT * FROM ${t};").is_err());
}

/// Every prefix, and many corruptions, of every golden statement: errors, never panics.
#[test]
fn garbled_and_truncated_inputs_never_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut corpus = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "sql") {
            corpus.push_str(&std::fs::read_to_string(path).unwrap());
            corpus.push('\n');
        }
    }
    let statements: Vec<&str> = corpus
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let alphabet: Vec<char> = "();,'`\"[]<>=-+*/%|.:${}@!~^&?#\\\n\t 0123456789aZ_é\u{1}\u{0}"
        .chars()
        .collect();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut runs = 0usize;
    for stmt in &statements {
        let chars: Vec<char> = stmt.chars().collect();
        for cut in 0..=chars.len() {
            let prefix: String = chars[..cut].iter().collect();
            let _ = parse(&prefix);
            runs += 1;
        }
        for _ in 0..40 {
            let mut garbled = chars.clone();
            for _ in 0..1 + next() % 4 {
                if garbled.is_empty() {
                    break;
                }
                let i = (next() as usize) % garbled.len();
                match next() % 3 {
                    0 => garbled[i] = alphabet[(next() as usize) % alphabet.len()],
                    1 => {
                        garbled.remove(i);
                    }
                    _ => garbled.insert(i, alphabet[(next() as usize) % alphabet.len()]),
                }
            }
            let text: String = garbled.iter().collect();
            if let Ok(parsed) = parse(&text) {
                // Whatever parses must also print and parse back.
                for p in parsed {
                    let printed = p.statement.to_string();
                    assert_eq!(
                        sluice_sql::parse_statement(&printed).ok().as_ref(),
                        Some(&p.statement),
                        "round trip of garbled {text:?} printed as {printed:?}"
                    );
                }
            }
            runs += 1;
        }
    }
    assert!(runs > 10_000, "only {runs} inputs");
}

/// Deep nesting and huge operator chains are errors, not stack overflows: run on a 2 MiB
/// stack (a tokio worker's) in a debug build, the worst case.
#[test]
fn deep_nesting_is_bounded() {
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            for depth in [10usize, 20, 100, 1_000, 10_000] {
                let parens = format!("SELECT {}1{} FROM s;", "(".repeat(depth), ")".repeat(depth));
                let nots = format!("SELECT * FROM s WHERE {} TRUE;", "NOT ".repeat(depth));
                let minus = format!("SELECT {}1 FROM s;", "- ".repeat(depth));
                let calls = format!(
                    "SELECT {}x{} FROM s;",
                    "ABS(".repeat(depth),
                    ")".repeat(depth)
                );
                let types = format!(
                    "CREATE STREAM s (a {}INT{});",
                    "ARRAY<".repeat(depth),
                    ">".repeat(depth)
                );
                let arrays = format!(
                    "SELECT {}1{} FROM s;",
                    "ARRAY[".repeat(depth),
                    "]".repeat(depth)
                );
                let lambdas = format!(
                    "SELECT {}x{} FROM s;",
                    "F(a, x => ".repeat(depth),
                    ")".repeat(depth)
                );
                let cases = format!(
                    "SELECT {}1{} FROM s;",
                    "CASE WHEN ".repeat(depth),
                    " THEN 1 END".repeat(depth)
                );
                for sql in [parens, nots, minus, calls, types, arrays, lambdas, cases] {
                    let result = parse(&sql);
                    if depth <= 20 {
                        assert!(result.is_ok(), "depth {depth} rejected: {}", &sql[..40]);
                    }
                    if depth >= 100 {
                        let e = result.expect_err(&sql[..40]);
                        assert!(
                            e.message().contains("nested") || e.message().contains("operators"),
                            "{e}"
                        );
                    }
                }
            }
            for terms in [10usize, 240, 5_000] {
                let chain = format!("SELECT * FROM s WHERE {}a = 1;", "a = 1 OR ".repeat(terms));
                let result = parse(&chain);
                if terms <= 240 {
                    let parsed = result.expect("a long but allowed chain");
                    let printed = parsed[0].statement.to_string();
                    assert_eq!(
                        sluice_sql::parse_statement(&printed).unwrap(),
                        parsed[0].statement
                    );
                    let _ = format!("{:?}", parsed[0].statement);
                } else {
                    assert!(result.unwrap_err().message().contains("operators"));
                }
            }
        })
        .unwrap();
    handle.join().expect("no stack overflow");
}
