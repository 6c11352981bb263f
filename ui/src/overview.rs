//! Overview: brokers, counts, and the live produce / consume rate chart.

use leptos::prelude::*;
use sluice_api::{paths, Overview as OverviewData, RateSample};

use crate::api;
use crate::app::cluster;
use crate::charts::{LineChart, Series};
use crate::util::{num, rate, toasts, Pill};
use crate::ws;

const KEEP: usize = 600;

#[component]
pub fn Overview() -> impl IntoView {
    let cluster = cluster();
    let data = RwSignal::new(None::<OverviewData>);
    let error = RwSignal::new(None::<String>);
    let samples = RwSignal::new(Vec::<RateSample>::new());
    let live = RwSignal::new("connecting".to_string());
    let socket = StoredValue::new(None::<ws::WsId>);

    let load_overview = move || {
        let c = cluster.get_untracked();
        leptos::task::spawn_local(async move {
            match api::get::<OverviewData>(&paths::overview(&api::enc(&c))).await {
                Ok(o) => {
                    data.set(Some(o));
                    error.set(None);
                }
                Err(e) => {
                    if error.get_untracked().as_deref() != Some(e.as_str()) {
                        toasts().error(format!("Overview: {e}"));
                    }
                    error.set(Some(e));
                }
            }
        });
    };

    // (Re)start everything when the cluster changes.
    Effect::new(move |_| {
        let c = cluster.get();
        data.set(None);
        samples.set(Vec::new());
        load_overview();
        let enc = api::enc(&c);
        leptos::task::spawn_local(async move {
            match api::get::<Vec<RateSample>>(&paths::rates(&enc)).await {
                Ok(mut v) => samples.update(|s| {
                    // Live samples may already have arrived; keep them after the history.
                    let newest = v.last().map(|x| x.ts_ms).unwrap_or(i64::MIN);
                    v.extend(s.iter().filter(|x| x.ts_ms > newest).copied());
                    *s = v;
                }),
                Err(e) => toasts().error(format!("Rates: {e}")),
            }
        });
        if let Some(old) = socket.get_value() {
            ws::close(old);
        }
        live.set("connecting".into());
        let url = api::ws_url(&paths::rates_live(&api::enc(&c)));
        let id = ws::open(
            &url,
            move |text| {
                if let Ok(s) = serde_json::from_str::<RateSample>(&text) {
                    samples.update(|v| {
                        v.push(s);
                        if v.len() > KEEP {
                            let extra = v.len() - KEEP;
                            v.drain(..extra);
                        }
                    });
                }
            },
            move |open| live.set(if open { "live".into() } else { "closed".into() }),
        );
        match id {
            Ok(id) => socket.set_value(Some(id)),
            Err(e) => {
                live.set("error".into());
                toasts().error(e);
            }
        }
    });
    let interval = set_interval_with_handle(load_overview, std::time::Duration::from_secs(5)).ok();
    on_cleanup(move || {
        if let Some(i) = interval {
            i.clear();
        }
        if let Some(id) = socket.get_value() {
            ws::close(id);
        }
    });

    let series = Signal::derive(move || {
        samples.with(|v| {
            vec![
                Series {
                    label: "Produced",
                    class: "s1",
                    points: v
                        .iter()
                        .map(|s| (s.ts_ms as f64, s.produce_per_sec))
                        .collect(),
                },
                Series {
                    label: "Consumed",
                    class: "s2",
                    points: v
                        .iter()
                        .map(|s| (s.ts_ms as f64, s.consume_per_sec))
                        .collect(),
                },
            ]
        })
    });
    let stat = move |label: &'static str, testid: &'static str, f: fn(&OverviewData) -> String| {
        view! {
            <div class="stat" data-testid=testid>
                <div class="stat-label">{label}</div>
                <div class="stat-value mono">
                    {move || data.with(|d| d.as_ref().map(f).unwrap_or_else(|| "—".into()))}
                </div>
            </div>
        }
    };

    view! {
        <div class="page" data-testid="overview">
            <div class="page-head">
                <h1>"Overview"</h1>
                <span class="muted mono">
                    {move || data.with(|d| d.as_ref().and_then(|d| d.kafka_cluster_id.clone()).map(|id| format!("cluster id {id}")))}
                </span>
            </div>
            {move || error.get().map(|e| view! { <div class="banner banner-error">{e}</div> })}
            <div class="stats">
                {stat("Brokers", "stat-brokers", |d| num(d.brokers.len() as i64))}
                <div class="stat" data-testid="stat-topics">
                    <div class="stat-label">"Topics"</div>
                    <div class="stat-value mono">
                        {move || data.with(|d| d.as_ref().map(|d| num(d.topic_count as i64)).unwrap_or_else(|| "—".into()))}
                        <span class="stat-sub">
                            {move || data.with(|d| d.as_ref().filter(|d| d.internal_topic_count > 0).map(|d| format!("+{} internal", d.internal_topic_count)))}
                        </span>
                    </div>
                </div>
                {stat("Partitions", "stat-partitions", |d| num(d.partition_count as i64))}
                {stat("Messages", "stat-messages", |d| num(d.message_count))}
                {stat("Consumer groups", "stat-groups", |d| num(d.group_count as i64))}
            </div>
            <section class="card">
                <div class="card-head">
                    <h2>"Throughput"</h2>
                    <span class="row-gap">
                        <span class="muted small">
                            {move || samples.with(|v| v.last().map(|s| format!("in {} · out {}", rate(s.produce_per_sec), rate(s.consume_per_sec))))}
                        </span>
                        <Pill text=live/>
                    </span>
                </div>
                <LineChart
                    series=series
                    unit="/s"
                    testid="rates-chart"
                    empty_text="Waiting for rate samples…"
                />
            </section>
            <section class="card">
                <h2>"Brokers"</h2>
                <table class="table">
                    <thead>
                        <tr>
                            <th class="num">"Id"</th>
                            <th>"Host"</th>
                            <th class="num">"Port"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || {
                            data.with(|d| {
                                d.as_ref()
                                    .map(|d| {
                                        d.brokers
                                            .iter()
                                            .map(|b| {
                                                view! {
                                                    <tr>
                                                        <td class="num mono">{b.id}</td>
                                                        <td class="mono">{b.host.clone()}</td>
                                                        <td class="num mono">{b.port}</td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()
                                    })
                            })
                        }}
                    </tbody>
                </table>
            </section>
        </div>
    }
}
