//! What `EXPLAIN` and `SHOW QUERIES EXTENDED` say of a query's shape: ksqlDB's
//! `executionPlan` text (one `> [ STEP ] | Schema: ... | Logger: ...` line per step, the sink
//! first, each input one level deeper) and a Kafka-Streams-style `topology` text
//! (`Topologies:` / `Sub-topology: 0` / `Source:` ... `Sink:`), both built from the [`Plan`]
//! the query really runs. Text only: no I/O, no engine state.

use std::fmt::Write;

use crate::catalog::{Column, ColumnKind, Source};
use crate::plan::{Body, Plan};
use crate::value::type_name;

/// `ID INTEGER KEY, MSG STRING`, as ksqlDB prints a logical schema.
pub fn schema_text(cols: &[Column]) -> String {
    cols.iter()
        .map(|c| {
            format!(
                "{} {}{}",
                c.name,
                type_name(&c.ty),
                if c.kind == ColumnKind::Key {
                    " KEY"
                } else {
                    ""
                }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The steps of `plan`, sink first: (step, schema, logger suffix).
fn steps(plan: &Plan, sink: Option<&Source>) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let output = schema_text(&plan.output);
    if let Some(s) = sink {
        out.push(("SINK".to_string(), schema_text(&s.columns), s.name.clone()));
    }
    match &plan.body {
        Body::Project(_) => out.push(("PROJECT".into(), output, "Project".into())),
        Body::Aggregate(a, _) => {
            out.push(("PROJECT".into(), output, "Aggregate.Project".into()));
            if a.having.is_some() {
                out.push((
                    "FILTER".into(),
                    schema_text(&a.inter_schema),
                    "Aggregate.HavingFilter".into(),
                ));
            }
            let step = if a.window.is_some() {
                "WINDOWED_AGGREGATE"
            } else {
                "AGGREGATE"
            };
            out.push((
                step.into(),
                schema_text(&a.inter_schema),
                "Aggregate.Aggregate".into(),
            ));
            out.push((
                "GROUP_BY".into(),
                schema_text(&plan.source.columns),
                "Aggregate.GroupBy".into(),
            ));
        }
    }
    if plan.filter.is_some() {
        out.push((
            "FILTER".into(),
            schema_text(&plan.source.columns),
            "WhereFilter".into(),
        ));
    }
    if let Some(j) = &plan.join {
        out.push(("JOIN".into(), schema_text(&j.schema), "Join".into()));
    }
    out
}

/// ksqlDB's `executionPlan` text of a query `id` writing `sink` (none for a transient query).
pub fn execution_plan(id: &str, plan: &Plan, sink: Option<&Source>) -> String {
    let mut text = String::new();
    let mut depth = 0;
    let line = |text: &mut String, depth: usize, step: &str, schema: &str, logger: &str| {
        let _ = writeln!(
            text,
            "{} > [ {step} ] | Schema: {schema} | Logger: {id}.{logger}",
            "\t\t".repeat(depth)
        );
    };
    for (step, schema, logger) in steps(plan, sink) {
        line(&mut text, depth, &step, &schema, &logger);
        depth += 1;
    }
    for (i, s) in plan.inputs().iter().enumerate() {
        let logger = if plan.join.is_some() {
            format!("KafkaTopic_{i}.Source")
        } else {
            "KsqlTopic.Source".to_string()
        };
        let step = match s.kind {
            crate::ast::SourceKind::Stream => "SOURCE",
            crate::ast::SourceKind::Table => "TABLE_SOURCE",
        };
        line(&mut text, depth, step, &schema_text(&s.columns), &logger);
    }
    text
}

/// A Kafka-Streams-style topology description of the query's one sub-topology.
pub fn topology(plan: &Plan, sink_topic: Option<&str>) -> String {
    let mut nodes: Vec<(String, String)> = Vec::new();
    let mut n = 0;
    let mut name = |kind: &str| {
        let s = format!("KSTREAM-{kind}-{n:010}");
        n += 1;
        s
    };
    for s in plan.inputs() {
        nodes.push((
            name("SOURCE"),
            format!("Source: {{}} (topics: [{}])", s.topic),
        ));
    }
    let processors: Vec<&str> = {
        let mut p = Vec::new();
        if plan.join.is_some() {
            p.push("JOIN");
        }
        if plan.filter.is_some() {
            p.push("FILTER");
        }
        if let Body::Aggregate(a, _) = &plan.body {
            p.push("GROUPBY");
            p.push(if a.window.is_some() {
                "WINDOWEDAGGREGATE"
            } else {
                "AGGREGATE"
            });
            if a.having.is_some() {
                p.push("HAVING");
            }
        }
        p.push("MAPVALUES");
        p
    };
    for kind in processors {
        nodes.push((name(kind), "Processor: {} (stores: [])".to_string()));
    }
    if let Some(t) = sink_topic {
        nodes.push((name("SINK"), format!("Sink: {{}} (topic: {t})")));
    }
    let mut text = String::from("Topologies:\n   Sub-topology: 0\n");
    let inputs = plan.inputs().len();
    for (i, (node, label)) in nodes.iter().enumerate() {
        let _ = writeln!(text, "    {}", label.replace("{}", node));
        // Every source feeds the first processor; each processor the next.
        let next = if i < inputs {
            nodes.get(inputs)
        } else {
            nodes.get(i + 1)
        };
        if let Some((to, _)) = next {
            let _ = writeln!(text, "      --> {to}");
        } else {
            let _ = writeln!(text, "      --> none");
        }
        if i >= inputs {
            let from: Vec<&str> = if i == inputs {
                nodes[..inputs].iter().map(|(n, _)| n.as_str()).collect()
            } else {
                vec![nodes[i - 1].0.as_str()]
            };
            let _ = writeln!(text, "      <-- {}", from.join(", "));
        }
    }
    text
}
