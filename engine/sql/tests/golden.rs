//! Golden tests: each `tests/golden/NAME.sql` is parsed as one request (one session, so
//! `DEFINE` applies to later statements) and the result is compared with `NAME.out`: per
//! statement its position, the pretty-printed form and the syntax tree; or the error. Every
//! printed statement must parse back to the same tree. `UPDATE_GOLDEN=1 cargo test -p
//! sluice-sql --test golden` rewrites the `.out` files (review the diff before committing).

use std::fmt::Write;
use std::path::{Path, PathBuf};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn render(sql: &str) -> String {
    let mut out = String::new();
    match sluice_sql::KsqlParser::new().parse(sql) {
        Ok(statements) => {
            for (i, parsed) in statements.iter().enumerate() {
                let printed = parsed.statement.to_string();
                let again = sluice_sql::parse_statement(&printed)
                    .unwrap_or_else(|e| panic!("printed form does not parse: {printed}\n{e}"));
                assert_eq!(again, parsed.statement, "round trip of {printed}");
                writeln!(
                    out,
                    "==== statement {} at line {}, column {}",
                    i + 1,
                    parsed.line,
                    parsed.column
                )
                .unwrap();
                writeln!(out, "{printed}").unwrap();
                writeln!(out, "---- tree").unwrap();
                writeln!(out, "{:#?}", parsed.statement).unwrap();
            }
        }
        Err(e) => {
            writeln!(
                out,
                "==== error at line {}, column {}",
                e.line(),
                e.column()
            )
            .unwrap();
            writeln!(out, "{e}").unwrap();
            writeln!(out, "---- statement").unwrap();
            writeln!(out, "{}", e.statement_text()).unwrap();
        }
    }
    out
}

#[test]
fn golden() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("tests/golden")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty());
    let mut failures = Vec::new();
    for input in &inputs {
        let sql = std::fs::read_to_string(input).expect("read .sql");
        let actual = render(&sql);
        let expected_path = input.with_extension("out");
        if update {
            std::fs::write(&expected_path, &actual).expect("write .out");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != actual {
            let first_diff = expected
                .lines()
                .zip(actual.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(expected.lines().count().min(actual.lines().count()));
            failures.push(format!(
                "{}: differs from {} at line {}:\n  expected: {:?}\n  actual:   {:?}",
                input.display(),
                expected_path.display(),
                first_diff + 1,
                expected.lines().nth(first_diff),
                actual.lines().nth(first_diff)
            ));
        }
    }
    eprintln!("{} golden files", inputs.len());
    assert!(
        failures.is_empty(),
        "{}\n(UPDATE_GOLDEN=1 regenerates)",
        failures.join("\n")
    );
}
