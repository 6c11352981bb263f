//! A small time-series line chart drawn as SVG.

use leptos::prelude::*;

use crate::util::clock;

#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub label: &'static str,
    /// CSS class giving the stroke colour (`s1`, `s2`, ...).
    pub class: &'static str,
    /// (ms since the epoch, value), oldest first.
    pub points: Vec<(f64, f64)>,
}

const W: f64 = 960.0;
const H: f64 = 220.0;
const L: f64 = 56.0; // left margin (y labels)
const R: f64 = 12.0;
const T: f64 = 12.0;
const B: f64 = 24.0; // bottom margin (x labels)

fn nice_max(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if v <= m * mag {
            return m * mag;
        }
    }
    10.0 * mag
}

fn label(v: f64) -> String {
    if v >= 1_000_000.0 {
        format!("{:.1}M", v / 1_000_000.0)
    } else if v >= 1000.0 {
        format!("{:.1}k", v / 1000.0)
    } else if v >= 10.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

#[component]
pub fn LineChart(
    #[prop(into)] series: Signal<Vec<Series>>,
    /// Shown when no series has two points.
    #[prop(into)]
    empty_text: String,
    #[prop(optional)] unit: &'static str,
    #[prop(optional, into)] testid: String,
) -> impl IntoView {
    let draw = move || {
        let all = series.get();
        let pts = all.iter().flat_map(|s| s.points.iter());
        let (mut x0, mut x1, mut ymax) = (f64::MAX, f64::MIN, 0f64);
        let mut count = 0;
        for &(x, y) in pts {
            x0 = x0.min(x);
            x1 = x1.max(x);
            ymax = ymax.max(y);
            count += 1;
        }
        // At least a minute wide, so a few samples are not stretched over the whole chart.
        x0 = x0.min(x1 - 60_000.0);
        if count == 0 {
            return view! {
                <text x=W / 2.0 y=H / 2.0 text-anchor="middle" class="chart-empty">{empty_text.clone()}</text>
            }
            .into_any();
        }
        let ymax = nice_max(ymax);
        let sx = move |x: f64| L + (x - x0) / (x1 - x0) * (W - L - R);
        let sy = move |y: f64| T + (1.0 - y / ymax) * (H - T - B);
        let grid = (0..=5)
            .map(|i| {
                let v = ymax * i as f64 / 5.0;
                let y = sy(v);
                view! {
                    <line x1=L x2=W - R y1=y y2=y class="chart-grid"/>
                    <text x=L - 6.0 y=y + 4.0 text-anchor="end" class="chart-label">{format!("{}{unit}", label(v))}</text>
                }
            })
            .collect_view();
        let lines = all
            .iter()
            .map(|s| {
                let d: String = s
                    .points
                    .iter()
                    .enumerate()
                    .map(|(i, &(x, y))| {
                        format!(
                            "{}{:.1},{:.1}",
                            if i == 0 { "M" } else { " L" },
                            sx(x),
                            sy(y)
                        )
                    })
                    .collect();
                let area = match (s.points.first(), s.points.last()) {
                    (Some(f), Some(l)) => format!(
                        "{d} L{:.1},{:.1} L{:.1},{:.1} Z",
                        sx(l.0),
                        sy(0.0),
                        sx(f.0),
                        sy(0.0)
                    ),
                    _ => String::new(),
                };
                view! {
                    <path d=area class=format!("chart-area {}", s.class)/>
                    <path d=d class=format!("chart-line {}", s.class)/>
                    {s.points.last().map(|&(x, y)| view! {
                        <circle cx=sx(x) cy=sy(y) r="3.5" class=format!("chart-dot {}", s.class)/>
                    })}
                }
            })
            .collect_view();
        view! {
            {grid}
            <text x=L y=H - 6.0 class="chart-label">{clock(x0)}</text>
            <text x=W - R y=H - 6.0 text-anchor="end" class="chart-label">{clock(x1)}</text>
            {lines}
        }
        .into_any()
    };
    let legend = move || {
        series
            .get()
            .into_iter()
            .map(|s| {
                let last = s.points.last().map(|p| p.1).unwrap_or(0.0);
                view! {
                    <span class="legend-item">
                        <span class=format!("legend-swatch {}", s.class)></span>
                        {s.label}
                        <b class="mono">{format!("{}{unit}", label(last))}</b>
                    </span>
                }
            })
            .collect_view()
    };
    view! {
        <div class="chart" data-testid=testid>
            <div class="chart-legend">{legend}</div>
            <svg viewBox=format!("0 0 {W} {H}") class="chart-svg" role="img">
                {draw}
            </svg>
        </div>
    }
}
