//! The catalog of the functions this engine really runs (the scalar functions of `expr.rs`,
//! the aggregates of `operators/aggregate.rs`; no table functions yet), with ksqlDB's
//! categories, signatures and descriptions, for `SHOW FUNCTIONS` and `DESCRIBE FUNCTION`.
//! A unit test checks every entry against the evaluator, so the list cannot claim a function
//! the engine lacks. No I/O.

/// ksqlDB's `FunctionType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionType {
    Scalar,
    Aggregate,
}

impl FunctionType {
    pub fn name(self) -> &'static str {
        match self {
            FunctionType::Scalar => "SCALAR",
            FunctionType::Aggregate => "AGGREGATE",
        }
    }
}

/// One variant of a function: its arguments (name, type), return type and description.
pub struct Variant {
    pub args: &'static [(&'static str, &'static str)],
    /// The last argument may repeat.
    pub variadic: bool,
    pub returns: &'static str,
    pub description: &'static str,
}

pub struct Function {
    pub name: &'static str,
    pub kind: FunctionType,
    pub category: &'static str,
    pub description: &'static str,
    pub variants: &'static [Variant],
}

const fn v(
    args: &'static [(&'static str, &'static str)],
    returns: &'static str,
    description: &'static str,
) -> Variant {
    Variant {
        args,
        variadic: false,
        returns,
        description,
    }
}

const STRING: &str = "STRING";
const NUMBERS: [&str; 3] = ["INT", "BIGINT", "DOUBLE"];
const STRING_FN: &str = "STRING";
const MATH: &str = "MATHEMATICAL";
const NULLS: &str = "CONDITIONAL";
const ARRAY: &str = "ARRAY";
const OTHER: &str = "OTHER";
const DATETIME: &str = "DATE / TIME";
const CONVERSIONS: &str = "CONVERSIONS";
const AGG: &str = "AGGREGATE";

/// Every implemented function, sorted by name.
pub static FUNCTIONS: &[Function] = &[
    Function { name: "ABS", kind: FunctionType::Scalar, category: MATH,
        description: "Returns the absolute value of its argument.",
        variants: &[v(&[("x", NUMBERS[0])], "INT", ""), v(&[("x", NUMBERS[1])], "BIGINT", ""), v(&[("x", NUMBERS[2])], "DOUBLE", ""), v(&[("x", "DECIMAL")], "DECIMAL", "")] },
    Function { name: "ARRAY_LENGTH", kind: FunctionType::Scalar, category: ARRAY,
        description: "Returns the length of the array, or NULL when it is NULL.",
        variants: &[v(&[("array", "ARRAY<T>")], "INT", "")] },
    Function { name: "AS_VALUE", kind: FunctionType::Scalar, category: OTHER,
        description: "Copies a key column into the value.",
        variants: &[v(&[("key", "T")], "T", "")] },
    Function { name: "AVG", kind: FunctionType::Aggregate, category: AGG,
        description: "Returns the average value of a column.",
        variants: &[v(&[("val", NUMBERS[0])], "DOUBLE", ""), v(&[("val", NUMBERS[1])], "DOUBLE", ""), v(&[("val", NUMBERS[2])], "DOUBLE", "")] },
    Function { name: "CEIL", kind: FunctionType::Scalar, category: MATH,
        description: "Returns the smallest integer value that is greater than or equal to its argument.",
        variants: &[v(&[("x", NUMBERS[0])], "INT", ""), v(&[("x", NUMBERS[1])], "BIGINT", ""), v(&[("x", NUMBERS[2])], "DOUBLE", ""), v(&[("x", "DECIMAL")], "DECIMAL", "")] },
    Function { name: "COALESCE", kind: FunctionType::Scalar, category: NULLS,
        description: "Returns the first parameter that is not NULL.",
        variants: &[Variant { args: &[("first", "T"), ("others", "T")], variadic: true, returns: "T", description: "" }] },
    Function { name: "COLLECT_LIST", kind: FunctionType::Aggregate, category: AGG,
        description: "Gathers all values of a column into an array (at most 1000).",
        variants: &[v(&[("val", "T")], "ARRAY<T>", "")] },
    Function { name: "COLLECT_SET", kind: FunctionType::Aggregate, category: AGG,
        description: "Gathers the distinct values of a column into an array (at most 1000).",
        variants: &[v(&[("val", "T")], "ARRAY<T>", "")] },
    Function { name: "CONCAT", kind: FunctionType::Scalar, category: STRING_FN,
        description: "Concatenates any number of strings; NULL arguments are ignored.",
        variants: &[Variant { args: &[("inputs", STRING)], variadic: true, returns: STRING, description: "" }] },
    Function { name: "CONVERT_TZ", kind: FunctionType::Scalar, category: DATETIME,
        description: "Converts a TIMESTAMP from one time zone to another (UTC and fixed offsets such as '+05:30' only).",
        variants: &[v(&[("timestamp", "TIMESTAMP"), ("from_tz", STRING), ("to_tz", STRING)], "TIMESTAMP", "")] },
    Function { name: "COUNT", kind: FunctionType::Aggregate, category: AGG,
        description: "Counts the rows (COUNT(*)) or the non-NULL values of a column.",
        variants: &[v(&[], "BIGINT", "Counts all rows."), v(&[("val", "T")], "BIGINT", "Counts the non-NULL values.")] },
    Function { name: "COUNT_DISTINCT", kind: FunctionType::Aggregate, category: AGG,
        description: "Returns the number of distinct non-NULL values of a column.",
        variants: &[v(&[("val", "T")], "BIGINT", "")] },
    Function { name: "DATEADD", kind: FunctionType::Scalar, category: DATETIME,
        description: "Adds a duration (whole days) to a DATE.",
        variants: &[v(&[("unit", "INTERVALUNIT"), ("interval", "INT"), ("date", "DATE")], "DATE", "")] },
    Function { name: "DATESUB", kind: FunctionType::Scalar, category: DATETIME,
        description: "Subtracts a duration (whole days) from a DATE.",
        variants: &[v(&[("unit", "INTERVALUNIT"), ("interval", "INT"), ("date", "DATE")], "DATE", "")] },
    Function { name: "DATETOSTRING", kind: FunctionType::Scalar, category: DATETIME,
        description: "Formats days since epoch (an INT) with a java.time.format.DateTimeFormatter pattern.",
        variants: &[v(&[("epochDays", "INT"), ("formatPattern", STRING)], STRING, "")] },
    Function { name: "EARLIEST_BY_OFFSET", kind: FunctionType::Aggregate, category: AGG,
        description: "Returns the value of the earliest record (by offset) of a column.",
        variants: &[v(&[("val", "T")], "T", "")] },
    Function { name: "FLOOR", kind: FunctionType::Scalar, category: MATH,
        description: "Returns the largest integer value that is less than or equal to its argument.",
        variants: &[v(&[("x", NUMBERS[0])], "INT", ""), v(&[("x", NUMBERS[1])], "BIGINT", ""), v(&[("x", NUMBERS[2])], "DOUBLE", ""), v(&[("x", "DECIMAL")], "DECIMAL", "")] },
    Function { name: "FORMAT_DATE", kind: FunctionType::Scalar, category: DATETIME,
        description: "Formats a DATE with a java.time.format.DateTimeFormatter pattern.",
        variants: &[v(&[("date", "DATE"), ("formatPattern", STRING)], STRING, "")] },
    Function { name: "FORMAT_TIME", kind: FunctionType::Scalar, category: DATETIME,
        description: "Formats a TIME with a java.time.format.DateTimeFormatter pattern.",
        variants: &[v(&[("time", "TIME"), ("formatPattern", STRING)], STRING, "")] },
    Function { name: "FORMAT_TIMESTAMP", kind: FunctionType::Scalar, category: DATETIME,
        description: "Formats a TIMESTAMP with a java.time.format.DateTimeFormatter pattern, in UTC or a fixed-offset time zone.",
        variants: &[v(&[("timestamp", "TIMESTAMP"), ("formatPattern", STRING)], STRING, ""), v(&[("timestamp", "TIMESTAMP"), ("formatPattern", STRING), ("timeZone", STRING)], STRING, "")] },
    Function { name: "FROM_BYTES", kind: FunctionType::Scalar, category: CONVERSIONS,
        description: "Converts BYTES to a STRING in an encoding: hex, utf8, ascii or base64.",
        variants: &[v(&[("bytes", "BYTES"), ("encoding", STRING)], STRING, "")] },
    Function { name: "FROM_UNIXTIME", kind: FunctionType::Scalar, category: DATETIME,
        description: "Converts milliseconds since epoch to a TIMESTAMP.",
        variants: &[v(&[("epochMilli", "BIGINT")], "TIMESTAMP", "")] },
    Function { name: "IFNULL", kind: FunctionType::Scalar, category: NULLS,
        description: "Returns the second argument when the first is NULL, else the first.",
        variants: &[v(&[("expression", "T"), ("altValue", "T")], "T", "")] },
    Function { name: "INITCAP", kind: FunctionType::Scalar, category: STRING_FN,
        description: "Capitalizes the first letter of each word and lower-cases the rest.",
        variants: &[v(&[("input", STRING)], STRING, "")] },
    Function { name: "INSTR", kind: FunctionType::Scalar, category: STRING_FN,
        description: "Returns the 1-based position of a substring (searching from a position, for an occurrence), or 0.",
        variants: &[
            v(&[("str", STRING), ("substring", STRING)], "INT", ""),
            v(&[("str", STRING), ("substring", STRING), ("position", "INT")], "INT", ""),
            v(&[("str", STRING), ("substring", STRING), ("position", "INT"), ("occurrence", "INT")], "INT", ""),
        ] },
    Function { name: "LATEST_BY_OFFSET", kind: FunctionType::Aggregate, category: AGG,
        description: "Returns the value of the latest record (by offset) of a column.",
        variants: &[v(&[("val", "T")], "T", "")] },
    Function { name: "LCASE", kind: FunctionType::Scalar, category: STRING_FN,
        description: "Converts a string to lower case.",
        variants: &[v(&[("input", STRING)], STRING, "")] },
    Function { name: "LEN", kind: FunctionType::Scalar, category: STRING_FN,
        description: "Returns the length of a string in characters.",
        variants: &[v(&[("input", STRING)], "INT", "")] },
    Function { name: "LPAD", kind: FunctionType::Scalar, category: STRING_FN,
        description: "Pads a string on the left to a length with a padding string (truncates longer input).",
        variants: &[v(&[("input", STRING), ("length", "INT"), ("padding", STRING)], STRING, "")] },
    Function { name: "LTRIM", kind: FunctionType::Scalar, category: STRING_FN,
        description: "Removes leading whitespace.",
        variants: &[v(&[("input", STRING)], STRING, "")] },
    Function { name: "MAX", kind: FunctionType::Aggregate, category: AGG,
        description: "Returns the maximum value of a column.",
        variants: &[v(&[("val", NUMBERS[0])], "INT", ""), v(&[("val", NUMBERS[1])], "BIGINT", ""), v(&[("val", NUMBERS[2])], "DOUBLE", ""), v(&[("val", "DECIMAL")], "DECIMAL", ""), v(&[("val", STRING)], STRING, ""), v(&[("val", "TIMESTAMP")], "TIMESTAMP", ""), v(&[("val", "DATE")], "DATE", ""), v(&[("val", "TIME")], "TIME", "")] },
    Function { name: "MIN", kind: FunctionType::Aggregate, category: AGG,
        description: "Returns the minimum value of a column.",
        variants: &[v(&[("val", NUMBERS[0])], "INT", ""), v(&[("val", NUMBERS[1])], "BIGINT", ""), v(&[("val", NUMBERS[2])], "DOUBLE", ""), v(&[("val", "DECIMAL")], "DECIMAL", ""), v(&[("val", STRING)], STRING, ""), v(&[("val", "TIMESTAMP")], "TIMESTAMP", ""), v(&[("val", "DATE")], "DATE", ""), v(&[("val", "TIME")], "TIME", "")] },
    Function { name: "NULLIF", kind: FunctionType::Scalar, category: NULLS,
        description: "Returns NULL when both arguments are equal, else the first.",
        variants: &[v(&[("expr1", "T"), ("expr2", "T")], "T", "")] },
    Function { name: "PARSE_DATE", kind: FunctionType::Scalar, category: DATETIME,
        description: "Parses a STRING with a java.time.format.DateTimeFormatter pattern into a DATE.",
        variants: &[v(&[("formattedDate", STRING), ("formatPattern", STRING)], "DATE", "")] },
    Function { name: "PARSE_TIME", kind: FunctionType::Scalar, category: DATETIME,
        description: "Parses a STRING with a java.time.format.DateTimeFormatter pattern into a TIME.",
        variants: &[v(&[("formattedTime", STRING), ("formatPattern", STRING)], "TIME", "")] },
    Function { name: "PARSE_TIMESTAMP", kind: FunctionType::Scalar, category: DATETIME,
        description: "Parses a STRING with a java.time.format.DateTimeFormatter pattern into a TIMESTAMP, in UTC or a fixed-offset time zone.",
        variants: &[v(&[("formattedTimestamp", STRING), ("formatPattern", STRING)], "TIMESTAMP", ""), v(&[("formattedTimestamp", STRING), ("formatPattern", STRING), ("timeZone", STRING)], "TIMESTAMP", "")] },
    Function { name: "REPLACE", kind: FunctionType::Scalar, category: STRING_FN,
        description: "Replaces every occurrence of a substring with another.",
        variants: &[v(&[("str", STRING), ("substring", STRING), ("replacement", STRING)], STRING, "")] },
    Function { name: "ROUND", kind: FunctionType::Scalar, category: MATH,
        description: "Rounds a number half up, to an integer or to a number of decimal places.",
        variants: &[
            v(&[("val", NUMBERS[0])], "INT", ""),
            v(&[("val", NUMBERS[1])], "BIGINT", ""),
            v(&[("val", NUMBERS[2])], "BIGINT", ""),
            v(&[("val", NUMBERS[2]), ("decimalPlaces", "INT")], "DOUBLE", ""),
            v(&[("val", "DECIMAL")], "DECIMAL", ""),
            v(&[("val", "DECIMAL"), ("decimalPlaces", "INT")], "DECIMAL", ""),
        ] },
    Function { name: "RPAD", kind: FunctionType::Scalar, category: STRING_FN,
        description: "Pads a string on the right to a length with a padding string (truncates longer input).",
        variants: &[v(&[("input", STRING), ("length", "INT"), ("padding", STRING)], STRING, "")] },
    Function { name: "RTRIM", kind: FunctionType::Scalar, category: STRING_FN,
        description: "Removes trailing whitespace.",
        variants: &[v(&[("input", STRING)], STRING, "")] },
    Function { name: "SQRT", kind: FunctionType::Scalar, category: MATH,
        description: "Returns the square root of its argument.",
        variants: &[v(&[("value", NUMBERS[2])], "DOUBLE", "")] },
    Function { name: "STRINGTODATE", kind: FunctionType::Scalar, category: DATETIME,
        description: "Parses a STRING with a java.time.format.DateTimeFormatter pattern into days since epoch (an INT).",
        variants: &[v(&[("formattedDate", STRING), ("formatPattern", STRING)], "INT", "")] },
    Function { name: "STRINGTOTIMESTAMP", kind: FunctionType::Scalar, category: DATETIME,
        description: "Parses a STRING with a java.time.format.DateTimeFormatter pattern into milliseconds since epoch (a BIGINT).",
        variants: &[v(&[("formattedTimestamp", STRING), ("formatPattern", STRING)], "BIGINT", ""), v(&[("formattedTimestamp", STRING), ("formatPattern", STRING), ("timeZone", STRING)], "BIGINT", "")] },
    Function { name: "SUBSTRING", kind: FunctionType::Scalar, category: STRING_FN,
        description: "Returns the part of a string from a 1-based position (negative: from the end), optionally of a length.",
        variants: &[
            v(&[("str", STRING), ("pos", "INT")], STRING, ""),
            v(&[("str", STRING), ("pos", "INT"), ("length", "INT")], STRING, ""),
        ] },
    Function { name: "SUM", kind: FunctionType::Aggregate, category: AGG,
        description: "Sums the values of a column.",
        variants: &[v(&[("val", NUMBERS[0])], "INT", ""), v(&[("val", NUMBERS[1])], "BIGINT", ""), v(&[("val", NUMBERS[2])], "DOUBLE", ""), v(&[("val", "DECIMAL")], "DECIMAL", "")] },
    Function { name: "TIMEADD", kind: FunctionType::Scalar, category: DATETIME,
        description: "Adds a duration to a TIME (wrapping around midnight).",
        variants: &[v(&[("unit", "INTERVALUNIT"), ("interval", "INT"), ("time", "TIME")], "TIME", "")] },
    Function { name: "TIMESTAMPADD", kind: FunctionType::Scalar, category: DATETIME,
        description: "Adds a duration to a TIMESTAMP.",
        variants: &[v(&[("unit", "INTERVALUNIT"), ("interval", "INT"), ("timestamp", "TIMESTAMP")], "TIMESTAMP", "")] },
    Function { name: "TIMESTAMPSUB", kind: FunctionType::Scalar, category: DATETIME,
        description: "Subtracts a duration from a TIMESTAMP.",
        variants: &[v(&[("unit", "INTERVALUNIT"), ("interval", "INT"), ("timestamp", "TIMESTAMP")], "TIMESTAMP", "")] },
    Function { name: "TIMESTAMPTOSTRING", kind: FunctionType::Scalar, category: DATETIME,
        description: "Formats milliseconds since epoch (a BIGINT) with a java.time.format.DateTimeFormatter pattern.",
        variants: &[v(&[("epochMilli", "BIGINT"), ("formatPattern", STRING)], STRING, ""), v(&[("epochMilli", "BIGINT"), ("formatPattern", STRING), ("timeZone", STRING)], STRING, "")] },
    Function { name: "TIMESUB", kind: FunctionType::Scalar, category: DATETIME,
        description: "Subtracts a duration from a TIME (wrapping around midnight).",
        variants: &[v(&[("unit", "INTERVALUNIT"), ("interval", "INT"), ("time", "TIME")], "TIME", "")] },
    Function { name: "TOPK", kind: FunctionType::Aggregate, category: AGG,
        description: "Returns the k largest values of a column, largest first (streams only).",
        variants: &[v(&[("val", "T"), ("k", "INT")], "ARRAY<T>", "")] },
    Function { name: "TOPKDISTINCT", kind: FunctionType::Aggregate, category: AGG,
        description: "Returns the k largest distinct values of a column, largest first (streams only).",
        variants: &[v(&[("val", "T"), ("k", "INT")], "ARRAY<T>", "")] },
    Function { name: "TO_BYTES", kind: FunctionType::Scalar, category: CONVERSIONS,
        description: "Converts a STRING in an encoding (hex, utf8, ascii or base64) to BYTES.",
        variants: &[v(&[("string", STRING), ("encoding", STRING)], "BYTES", "")] },
    Function { name: "TRIM", kind: FunctionType::Scalar, category: STRING_FN,
        description: "Removes leading and trailing whitespace.",
        variants: &[v(&[("input", STRING)], STRING, "")] },
    Function { name: "UCASE", kind: FunctionType::Scalar, category: STRING_FN,
        description: "Converts a string to upper case.",
        variants: &[v(&[("input", STRING)], STRING, "")] },
    Function { name: "UNIX_DATE", kind: FunctionType::Scalar, category: DATETIME,
        description: "Returns today's days since epoch, or a DATE's.",
        variants: &[v(&[], "INT", "The current date."), v(&[("date", "DATE")], "INT", "")] },
    Function { name: "UNIX_TIMESTAMP", kind: FunctionType::Scalar, category: DATETIME,
        description: "Returns the current milliseconds since epoch, or a TIMESTAMP's.",
        variants: &[v(&[], "BIGINT", "The current time."), v(&[("timestamp", "TIMESTAMP")], "BIGINT", "")] },
];

/// The function named `name` (any case).
pub fn find(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{Expr, Ident, Literal};

    #[test]
    fn the_catalog_lists_exactly_what_the_evaluator_runs() {
        let mut names: Vec<&str> = FUNCTIONS.iter().map(|f| f.name).collect();
        let sorted = {
            let mut s = names.clone();
            s.sort_unstable();
            s
        };
        assert_eq!(names, sorted, "kept sorted by name");
        names.dedup();
        assert_eq!(names.len(), FUNCTIONS.len(), "no duplicates");
        for f in FUNCTIONS {
            assert_eq!(
                crate::expr::is_aggregate(f.name),
                f.kind == FunctionType::Aggregate,
                "{}",
                f.name
            );
            // The typer knows every function (an unknown one is "Can't find any functions").
            let call = Expr::Function {
                name: Ident::new(f.name),
                args: vec![Expr::Literal(Literal::Null)],
                star: false,
            };
            if let Err(e) = crate::expr::type_of(&call, &[], false) {
                assert!(!e.to_string().contains("Can't find"), "{}: {e}", f.name);
            }
            assert!(!f.variants.is_empty(), "{}", f.name);
        }
        let unknown = Expr::Function {
            name: Ident::new("NOT_A_FUNCTION"),
            args: vec![],
            star: false,
        };
        assert!(crate::expr::type_of(&unknown, &[], false).is_err());
        assert!(find("ucase").is_some() && find("explode").is_none());
    }
}
