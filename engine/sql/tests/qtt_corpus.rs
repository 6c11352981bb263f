//! Every statement of the shared ksqlDB QTT conformance cases (`shared/conformance/
//! ksql-qtt-public.json`, kept outside the project) must parse, except those the cases
//! themselves expect to fail with ksqlDB's ParseFailedException; every parsed statement must
//! survive a print/parse round trip. Skipped (with a note) when the file is not there.

use std::path::PathBuf;

fn corpus() -> Option<serde_json::Value> {
    let path = std::env::var_os("SLUICE_QTT_CASES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/conformance/ksql-qtt-public.json")
        });
    let text = std::fs::read_to_string(&path).ok()?;
    Some(serde_json::from_str(&text).expect("the QTT file is JSON"))
}

#[test]
fn every_qtt_statement_parses_and_round_trips() {
    let Some(cases) = corpus() else {
        eprintln!("ksql-qtt-public.json not found: QTT corpus test skipped");
        return;
    };
    let (mut total, mut parsed, mut expected_failures) = (0, 0, 0);
    let mut unexpected = Vec::new();
    for case in cases["cases"].as_array().expect("cases") {
        let id = case["id"].as_str().unwrap_or("?");
        let parse_error_expected = case["expected_error"]["type"]
            .as_str()
            .is_some_and(|t| t.ends_with("ParseFailedException"));
        for sql in case["statements"].as_array().expect("statements") {
            let sql = sql.as_str().expect("statement text");
            total += 1;
            match sluice_sql::parse(sql) {
                Ok(statements) => {
                    parsed += 1;
                    assert_eq!(statements.len(), 1, "{id}: {sql}");
                    let printed = statements[0].statement.to_string();
                    let again = sluice_sql::parse_statement(&printed)
                        .unwrap_or_else(|e| panic!("{id}: {printed}\ndoes not parse: {e}"));
                    assert_eq!(again, statements[0].statement, "{id}: round trip of {sql}");
                    if parse_error_expected && case["statements"].as_array().unwrap().len() == 1 {
                        unexpected.push(format!("{id}: parsed but ksqlDB rejects it: {sql}"));
                    }
                }
                Err(e) if parse_error_expected => {
                    expected_failures += 1;
                    eprintln!("{id}: rejected as ksqlDB does: {e}");
                }
                Err(e) => unexpected.push(format!("{id}: {sql}\n  {e}")),
            }
        }
    }
    eprintln!(
        "QTT statements: {parsed} of {total} parse; {expected_failures} rejected as ksqlDB rejects them"
    );
    assert!(
        unexpected.is_empty(),
        "unexpected results:\n{}",
        unexpected.join("\n")
    );
    assert_eq!(parsed + expected_failures, total);
}
