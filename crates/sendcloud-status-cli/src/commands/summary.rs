//! `summary`: counts and shares by category, sub-status and day.

use std::fmt::Write as _;

use sendcloud_status::core::report::Summary;
use sendcloud_status::{Category, Language, Query, Wording};

use super::Source;
use crate::cli::{GlobalArgs, SummaryArgs, SummaryFormat};
use crate::exit::Failure;
use crate::filters::Filters;
use crate::output::{fit, json_document, percent, thousands};

pub fn run(g: &GlobalArgs, args: &SummaryArgs) -> Result<(), Failure> {
    let filters = Filters::from_args(&args.filters)?;
    let query = filters.build(None)?;
    let path = args.output.output.as_deref();
    let format = args.format.unwrap_or(match super::extension(path).as_deref() {
        Some("json") => SummaryFormat::Json,
        _ => SummaryFormat::Table,
    });
    let source = Source::open(g, args.archive.db.as_deref(), std::slice::from_ref(&query))?;
    super::with_sink(path, |sink| {
        // Counts hold codes, not the server's words: `server` shows the documented English.
        let language = match args.language.language {
            Wording::Documented(lang) => lang,
            _ => Language::English,
        };
        let mut summary = Summary::default().with_language(language);
        let progress = super::progress(g, filters.max_records);
        source.stream(vec![query.clone()], filters.max_records, &progress, false, |records| {
            records.iter().for_each(|r| summary.add(r));
            Ok(())
        })?;
        let bytes = match format {
            SummaryFormat::Json => json_document(&summary)?,
            SummaryFormat::Table => render(&summary, &query, &source).into_bytes(),
        };
        sink.write_all(&bytes)
    })
}

fn render(s: &Summary, query: &Query, source: &Source) -> String {
    let mut out = String::new();
    let c = s.counts();
    let (from, to) = query.window().date_range(source.today());
    let range = if from == to { from.to_string() } else { format!("{from} to {to}") };
    let _ = writeln!(out, "Delivery summary, {range} (server days, UTC+08:00), {}", source.api_users_label(query));
    let rate = c.deliverability_rate().map_or_else(|| "n/a".to_owned(), percent);
    let _ = writeln!(
        out,
        "{} emails · deliverability {rate} = delivered ÷ (delivered + invalid + soft bounce)",
        thousands(c.total)
    );

    let _ = writeln!(out, "\n{:<12}  {:>10}  {:>7}", "CATEGORY", "COUNT", "SHARE");
    for cat in Category::ALL {
        let _ = writeln!(
            out,
            "{:<12}  {:>10}  {:>7}",
            cat.name().replace('_', " "),
            thousands(c.get(cat)),
            percent(s.share(cat))
        );
    }

    let subs = s.sub_statuses();
    if !subs.is_empty() {
        // The share is of every email in the range, not of the bounces: say so in the header.
        let _ = writeln!(
            out,
            "\n{:<4}  {}  {:<9}  {:>10}  {:>12}",
            "CODE",
            fit("SUB-STATUS", 40),
            "CLASS",
            "COUNT",
            "OF ALL EMAIL"
        );
        for sub in &subs {
            let _ = writeln!(
                out,
                "{:<4}  {}  {:<9}  {:>10}  {:>12}",
                sub.code,
                fit(&sub.description, 40),
                sub.class,
                thousands(sub.count),
                percent(sub.share)
            );
        }
    }

    let days = s.days();
    if !days.is_empty() {
        let _ = writeln!(
            out,
            "\n{:<10}  {:>9}  {:>9}  {:>9}  {:>11}  {:>9}  {:>9}  {:>14}",
            "DAY", "TOTAL", "DELIVERED", "INVALID", "SOFT BOUNCE", "SENDING", "UNKNOWN", "DELIVERABILITY"
        );
        for d in &days {
            let k = &d.counts;
            let _ = writeln!(
                out,
                "{:<10}  {:>9}  {:>9}  {:>9}  {:>11}  {:>9}  {:>9}  {:>14}",
                d.date.to_string(),
                thousands(k.total),
                thousands(k.delivered),
                thousands(k.invalid),
                thousands(k.soft_bounce),
                thousands(k.sending),
                thousands(k.unknown),
                d.deliverability_rate.map_or_else(|| "n/a".to_owned(), percent)
            );
        }
    }
    if s.undated() > 0 {
        let _ = writeln!(out, "\n{} records had no readable request time (not in any day).", thousands(s.undated()));
    }
    out
}
