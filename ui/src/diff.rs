//! A line diff (longest common subsequence) and its side-by-side view.

use leptos::prelude::*;

use crate::highlight::{line_view, lines, Lang};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// The same line: index on the left, index on the right.
    Same(usize, usize),
    /// A line only on the left (removed).
    Del(usize),
    /// A line only on the right (added).
    Add(usize),
}

/// Above this many cells the table is not built: the differing middle is shown as replaced.
const MAX_CELLS: usize = 4_000_000;

/// The edit script from `a` to `b`, in order.
pub fn diff_lines(a: &[&str], b: &[&str]) -> Vec<Op> {
    // The common prefix and suffix need no table.
    let mut pre = 0;
    while pre < a.len() && pre < b.len() && a[pre] == b[pre] {
        pre += 1;
    }
    let mut suf = 0;
    while suf < a.len() - pre && suf < b.len() - pre && a[a.len() - 1 - suf] == b[b.len() - 1 - suf]
    {
        suf += 1;
    }
    let (am, bm) = (&a[pre..a.len() - suf], &b[pre..b.len() - suf]);
    let mut ops: Vec<Op> = (0..pre).map(|i| Op::Same(i, i)).collect();
    let (n, m) = (am.len(), bm.len());
    if n * m > MAX_CELLS {
        ops.extend((0..n).map(|i| Op::Del(pre + i)));
        ops.extend((0..m).map(|j| Op::Add(pre + j)));
    } else {
        // lcs[i][j]: the LCS length of am[i..] and bm[j..].
        let w = m + 1;
        let mut lcs = vec![0u32; (n + 1) * w];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i * w + j] = if am[i] == bm[j] {
                    lcs[(i + 1) * w + j + 1] + 1
                } else {
                    lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n && j < m {
            if am[i] == bm[j] {
                ops.push(Op::Same(pre + i, pre + j));
                i += 1;
                j += 1;
            } else if lcs[(i + 1) * w + j] >= lcs[i * w + j + 1] {
                ops.push(Op::Del(pre + i));
                i += 1;
            } else {
                ops.push(Op::Add(pre + j));
                j += 1;
            }
        }
        ops.extend((i..n).map(|i| Op::Del(pre + i)));
        ops.extend((j..m).map(|j| Op::Add(pre + j)));
    }
    ops.extend((0..suf).map(|k| Op::Same(a.len() - suf + k, b.len() - suf + k)));
    ops
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowKind {
    Same,
    /// A removed line next to the added line that replaced it.
    Changed,
    Removed,
    Added,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    pub left: Option<usize>,
    pub right: Option<usize>,
    pub kind: RowKind,
}

/// Side-by-side rows: runs of removed and added lines between unchanged ones are paired up
/// as changed lines, the rest stay removed or added.
pub fn side_by_side(ops: &[Op]) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut dels: Vec<usize> = Vec::new();
    let mut adds: Vec<usize> = Vec::new();
    let flush = |rows: &mut Vec<Row>, dels: &mut Vec<usize>, adds: &mut Vec<usize>| {
        let n = dels.len().max(adds.len());
        for k in 0..n {
            let (l, r) = (dels.get(k).copied(), adds.get(k).copied());
            let kind = match (l, r) {
                (Some(_), Some(_)) => RowKind::Changed,
                (Some(_), None) => RowKind::Removed,
                _ => RowKind::Added,
            };
            rows.push(Row {
                left: l,
                right: r,
                kind,
            });
        }
        dels.clear();
        adds.clear();
    };
    for op in ops {
        match *op {
            Op::Same(i, j) => {
                flush(&mut rows, &mut dels, &mut adds);
                rows.push(Row {
                    left: Some(i),
                    right: Some(j),
                    kind: RowKind::Same,
                });
            }
            Op::Del(i) => dels.push(i),
            Op::Add(j) => adds.push(j),
        }
    }
    flush(&mut rows, &mut dels, &mut adds);
    rows
}

/// The two texts side by side, changed lines coloured, both sides highlighted.
#[component]
pub fn SideBySide(
    from: String,
    to: String,
    lang: Lang,
    from_label: String,
    to_label: String,
) -> impl IntoView {
    let a: Vec<&str> = from.split('\n').collect();
    let b: Vec<&str> = to.split('\n').collect();
    let rows = side_by_side(&diff_lines(&a, &b));
    let hl_a = lines(&from, lang);
    let hl_b = lines(&to, lang);
    let count = |k: RowKind| rows.iter().filter(|r| r.kind == k).count();
    let (added, removed, changed) = (
        count(RowKind::Added),
        count(RowKind::Removed),
        count(RowKind::Changed),
    );
    let cell = |hl: &[Vec<(crate::highlight::Tok, String)>],
                i: Option<usize>,
                side: &str,
                kind: RowKind| {
        let cls = match (kind, side) {
            (RowKind::Same, _) => "d-code",
            (RowKind::Changed, "l") => "d-code d-chg-del",
            (RowKind::Changed, _) => "d-code d-chg-add",
            (RowKind::Removed, "l") => "d-code d-del",
            (RowKind::Added, "r") => "d-code d-add",
            _ => "d-code d-none",
        };
        let ln = i.map(|i| (i + 1).to_string()).unwrap_or_default();
        let mark = match (kind, i) {
            (_, None) | (RowKind::Same, _) => " ",
            (RowKind::Changed, _) => "~",
            (RowKind::Removed, _) => "−",
            (RowKind::Added, _) => "+",
        };
        let code = i.and_then(|i| hl.get(i).cloned()).unwrap_or_default();
        view! {
            <td class="d-ln">{ln}</td>
            <td class=cls><span class="d-mark">{mark}</span>{line_view(code)}</td>
        }
    };
    let body = rows
        .iter()
        .map(|r| {
            let kind = match r.kind {
                RowKind::Same => "same",
                RowKind::Changed => "changed",
                RowKind::Removed => "removed",
                RowKind::Added => "added",
            };
            view! {
                <tr data-kind=kind>
                    {cell(&hl_a, r.left, "l", r.kind)}
                    {cell(&hl_b, r.right, "r", r.kind)}
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="diff" data-testid="schema-diff">
            <div class="diff-stats small">
                <span class="d-stat-add">{format!("+{added} added")}</span>
                <span class="d-stat-del">{format!("−{removed} removed")}</span>
                <span class="d-stat-chg">{format!("~{changed} changed")}</span>
            </div>
            <table class="diff-table">
                <colgroup>
                    <col class="d-ln-col"/>
                    <col/>
                    <col class="d-ln-col"/>
                    <col/>
                </colgroup>
                <thead>
                    <tr>
                        <th colspan="2">{from_label}</th>
                        <th colspan="2">{to_label}</th>
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}
