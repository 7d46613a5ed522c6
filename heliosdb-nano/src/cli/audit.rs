//! `audit-report`: verifies an audit log's keyed hash chain and writes a
//! readable encryption-compliance report (PDF or HTML with a small chart of
//! events over time, or Markdown).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use heliosdb_core::audit::{read_log, verify_chain_anchored, AuditLine, ChainReport, EventType};

use super::keysrc::{self, KeyArgs};
use super::pdf::{Doc, Rgb, BLACK};
use super::Target;

pub fn run(
    input: Option<PathBuf>,
    report_type: &str,
    output: Option<PathBuf>,
    verify: bool,
    target: &Target,
    keys: &KeyArgs,
) -> anyhow::Result<ExitCode> {
    let have_db = target.path.is_some() || target.config.is_some();
    let (db, input) = if have_db {
        let (path, config, from_file) = target.resolve()?;
        let input = input.or(config.audit.log_file.clone()).context(
            "give the audit log with --input (or a --config whose [audit] sets log_file)",
        )?;
        (Some((path, config, from_file)), input)
    } else {
        (None, input.context("give the audit log with --input")?)
    };
    if !verify && output.is_none() {
        bail!("nothing to do: give --verify and/or --output REPORT (.pdf, .html or .md)");
    }
    let chain = if verify {
        let Some((path, config, from_file)) = &db else {
            bail!(
                "--verify needs the database whose keyring holds the chain key: --path or --config"
            );
        };
        let mut config = config.clone();
        config.audit.enabled = false; // reading the chain key must not append to the log being checked
        let storage = keysrc::open_existing(path, &config, *from_file, keys)?;
        let (key, id) = storage.audit_chain_key_for_verification()?;
        let anchor = storage.audit_anchor()?;
        drop(storage);
        let report = verify_chain_anchored(&input, key.as_ref(), &id, anchor)?;
        match (&report.first_break, &report.truncated) {
            (None, None) => println!("✓ audit chain intact: {} lines verified", report.lines),
            (Some((file, line, why)), _) => println!(
                "✗ audit chain broken at {file} line {line}: {why} ({} later lines unverifiable)",
                report.after_break
            ),
            (None, Some(why)) => println!("✗ audit log truncated: {why}"),
        }
        Some(report)
    } else {
        None
    };
    if let Some(out) = &output {
        let lines: Vec<AuditLine> = read_log(&input)?
            .into_iter()
            .filter_map(|(_, _, l)| l.ok())
            .collect();
        let text = match out.extension().and_then(|e| e.to_str()) {
            Some("md") | Some("markdown") => {
                markdown(report_type, &input, &lines, chain.as_ref()).into_bytes()
            }
            Some("html") | Some("htm") => {
                html(report_type, &input, &lines, chain.as_ref()).into_bytes()
            }
            Some("pdf") => pdf(report_type, &input, &lines, chain.as_ref()),
            _ => bail!(
                "unknown report format for {}: use .pdf, .html or .md",
                out.display()
            ),
        };
        std::fs::write(out, text).with_context(|| format!("cannot write {}", out.display()))?;
        println!(
            "report written to {} ({} events)",
            out.display(),
            lines.len()
        );
    }
    Ok(match chain {
        Some(r) if !r.is_ok() => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    })
}

struct Summary<'a> {
    first: Option<&'a str>,
    last: Option<&'a str>,
    encrypted: usize,
    by_table: BTreeMap<String, BTreeMap<&'static str, u64>>,
    by_user: BTreeMap<String, u64>,
    by_day: BTreeMap<String, u64>,
    key_events: Vec<(&'a str, &'a str)>,
}

fn kind(t: EventType) -> &'static str {
    match t {
        EventType::Read => "read",
        EventType::Write => "write",
        EventType::Delete => "delete",
        EventType::SchemaChange => "schema_change",
        EventType::KeyEvent => "key_event",
    }
}

fn summarize(lines: &[AuditLine]) -> Summary<'_> {
    let mut s = Summary {
        first: lines.first().map(|l| l.timestamp.as_str()),
        last: lines.last().map(|l| l.timestamp.as_str()),
        encrypted: lines.iter().filter(|l| l.encryption_enabled).count(),
        by_table: BTreeMap::new(),
        by_user: BTreeMap::new(),
        by_day: BTreeMap::new(),
        key_events: Vec::new(),
    };
    for l in lines {
        *s.by_user.entry(l.user.clone()).or_default() += 1;
        *s.by_day
            .entry(l.timestamp.get(..10).unwrap_or("?").to_string())
            .or_default() += 1;
        if l.event_type == EventType::KeyEvent {
            s.key_events
                .push((&l.timestamp, l.query.as_deref().unwrap_or("")));
        } else if let Some(t) = &l.table {
            *s.by_table
                .entry(t.clone())
                .or_default()
                .entry(kind(l.event_type))
                .or_default() += 1;
        }
    }
    s
}

fn chain_text(chain: Option<&ChainReport>) -> String {
    match chain {
        None => "not checked (run with --verify and the database's key)".into(),
        Some(r) => match (&r.first_break, &r.truncated) {
            (None, None) => format!("intact: all {} lines verified", r.lines),
            (Some((f, n, why)), _) => format!("BROKEN at {f} line {n}: {why}"),
            (None, Some(why)) => format!("TRUNCATED: {why}"),
        },
    }
}

fn markdown(
    kind_: &str,
    input: &std::path::Path,
    lines: &[AuditLine],
    chain: Option<&ChainReport>,
) -> String {
    let s = summarize(lines);
    let mut o = String::new();
    let _ = writeln!(o, "# HeliosDB Nano {kind_} report\n");
    let _ = writeln!(o, "- log: `{}`", input.display());
    let _ = writeln!(
        o,
        "- period: {} – {}",
        s.first.unwrap_or("-"),
        s.last.unwrap_or("-")
    );
    let _ = writeln!(o, "- events: {}", lines.len());
    let _ = writeln!(o, "- hash chain: {}", chain_text(chain));
    let _ = writeln!(
        o,
        "- encryption: {} of {} events on an encrypted database ({:.1} %)\n",
        s.encrypted,
        lines.len(),
        pct(s.encrypted, lines.len())
    );
    let _ = writeln!(o, "## Key events\n\n| time | event |\n|---|---|");
    for (t, e) in &s.key_events {
        let _ = writeln!(o, "| {t} | {} |", e.replace('|', "\\|"));
    }
    let _ = writeln!(o, "\n## Access per table\n\n| table | read | write | delete | schema_change |\n|---|---:|---:|---:|---:|");
    for (t, m) in &s.by_table {
        let g = |k| m.get(k).copied().unwrap_or(0);
        let _ = writeln!(
            o,
            "| {t} | {} | {} | {} | {} |",
            g("read"),
            g("write"),
            g("delete"),
            g("schema_change")
        );
    }
    let _ = writeln!(o, "\n## Events per user\n\n| user | events |\n|---|---:|");
    for (u, n) in &s.by_user {
        let _ = writeln!(o, "| {u} | {n} |");
    }
    let max = s.by_day.values().copied().max().unwrap_or(1).max(1);
    let _ = writeln!(o, "\n## Events per day\n\n```");
    for (d, n) in &s.by_day {
        let _ = writeln!(o, "{d} {:>8} {}", n, "#".repeat(((n * 50) / max) as usize));
    }
    let _ = writeln!(o, "```");
    o
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html(
    kind_: &str,
    input: &std::path::Path,
    lines: &[AuditLine],
    chain: Option<&ChainReport>,
) -> String {
    let s = summarize(lines);
    let mut o = String::new();
    let _ = write!(
        o,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>HeliosDB Nano {k} report</title>\
         <style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:.2em .6em;text-align:left}}.bad{{color:#b00}}.ok{{color:#070}}</style>\
         </head><body><h1>HeliosDB Nano {k} report</h1><ul><li>log: <code>{log}</code></li>\
         <li>period: {a} – {b}</li><li>events: {n}</li><li>hash chain: <span class=\"{cls}\">{chain}</span></li>\
         <li>encryption: {e} of {n} events on an encrypted database ({p:.1} %)</li></ul>",
        k = esc(kind_),
        log = esc(&input.display().to_string()),
        a = esc(s.first.unwrap_or("-")),
        b = esc(s.last.unwrap_or("-")),
        n = lines.len(),
        cls = if chain.is_some_and(|c| !c.is_ok()) { "bad" } else { "ok" },
        chain = esc(&chain_text(chain)),
        e = s.encrypted,
        p = pct(s.encrypted, lines.len()),
    );
    // Events per day as an inline SVG bar chart.
    let max = s.by_day.values().copied().max().unwrap_or(1).max(1) as f64;
    let (w, h, bar) = (
        640.0,
        160.0,
        (640.0 / s.by_day.len().max(1) as f64).min(60.0),
    );
    let _ = write!(
        o,
        "<h2>Events per day</h2><svg width=\"{w}\" height=\"{}\" role=\"img\">",
        h + 20.0
    );
    for (i, (d, n)) in s.by_day.iter().enumerate() {
        let bh = (*n as f64 / max) * h;
        let x = i as f64 * bar;
        let _ = write!(
            o,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"#4a7\"><title>{} {n}</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\">{}</text>",
            h - bh,
            bar * 0.8,
            esc(d),
            x,
            h + 12.0,
            esc(d.get(5..).unwrap_or(d)),
        );
    }
    let _ = write!(
        o,
        "</svg><h2>Key events</h2><table><tr><th>time</th><th>event</th></tr>"
    );
    for (t, e) in &s.key_events {
        let _ = write!(o, "<tr><td>{}</td><td>{}</td></tr>", esc(t), esc(e));
    }
    let _ = write!(o, "</table><h2>Access per table</h2><table><tr><th>table</th><th>read</th><th>write</th><th>delete</th><th>schema change</th></tr>");
    for (t, m) in &s.by_table {
        let g = |k| m.get(k).copied().unwrap_or(0);
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(t),
            g("read"),
            g("write"),
            g("delete"),
            g("schema_change")
        );
    }
    let _ = write!(
        o,
        "</table><h2>Events per user</h2><table><tr><th>user</th><th>events</th></tr>"
    );
    for (u, n) in &s.by_user {
        let _ = write!(o, "<tr><td>{}</td><td>{n}</td></tr>", esc(u));
    }
    let _ = writeln!(o, "</table></body></html>");
    o
}

fn pdf(
    kind_: &str,
    input: &std::path::Path,
    lines: &[AuditLine],
    chain: Option<&ChainReport>,
) -> Vec<u8> {
    const RED: Rgb = (0.7, 0.0, 0.0);
    const GREEN: Rgb = (0.0, 0.45, 0.0);
    let s = summarize(lines);
    let title = format!("HeliosDB Nano {kind_} report");
    let mut d = Doc::new(&title);
    d.heading(&title, 18.0);
    d.line(&format!("log: {}", input.display()), BLACK);
    d.line(
        &format!(
            "period: {} – {}",
            s.first.unwrap_or("-"),
            s.last.unwrap_or("-")
        ),
        BLACK,
    );
    d.line(&format!("events: {}", lines.len()), BLACK);
    let broken = chain.is_some_and(|c| !c.is_ok());
    d.line(
        &format!("hash chain: {}", chain_text(chain)),
        if broken {
            RED
        } else if chain.is_some() {
            GREEN
        } else {
            BLACK
        },
    );
    d.line(
        &format!(
            "encryption: {} of {} events on an encrypted database ({:.1} %)",
            s.encrypted,
            lines.len(),
            pct(s.encrypted, lines.len())
        ),
        BLACK,
    );
    d.heading("Events per day", 13.0);
    let bars: Vec<(String, u64)> = s
        .by_day
        .iter()
        .map(|(day, n)| (day.get(5..).unwrap_or(day).to_string(), *n))
        .collect();
    d.bar_chart(&bars, 120.0, (0.29, 0.67, 0.47));
    d.heading("Key events", 13.0);
    d.row(&[(0.0, "time"), (150.0, "event")], true, BLACK);
    for (t, e) in &s.key_events {
        d.row(&[(0.0, t), (150.0, e)], false, BLACK);
    }
    d.heading("Access per table", 13.0);
    let cols = [0.0, 200.0, 260.0, 320.0, 380.0];
    d.row(
        &[
            (cols[0], "table"),
            (cols[1], "read"),
            (cols[2], "write"),
            (cols[3], "delete"),
            (cols[4], "schema change"),
        ],
        true,
        BLACK,
    );
    for (t, m) in &s.by_table {
        let g = |k| m.get(k).copied().unwrap_or(0).to_string();
        let (r, w, del, sc) = (g("read"), g("write"), g("delete"), g("schema_change"));
        d.row(
            &[
                (cols[0], t),
                (cols[1], &r),
                (cols[2], &w),
                (cols[3], &del),
                (cols[4], &sc),
            ],
            false,
            BLACK,
        );
    }
    d.heading("Events per user", 13.0);
    d.row(&[(0.0, "user"), (200.0, "events")], true, BLACK);
    for (u, n) in &s.by_user {
        d.row(&[(0.0, u), (200.0, &n.to_string())], false, BLACK);
    }
    d.finish()
}

fn pct(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 * 100.0 / b as f64
    }
}
