//! `vnfhir bhyt check FILE…` and `vnfhir bhyt show FILE`.

use std::fs::File;
use std::io::{BufReader, Read};

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use super::envelope::{Document, Envelope};
use super::rules::{self, catalogue, Report};
use super::spec::{spec, Standard};
use super::xml::Table;

#[derive(Subcommand)]
pub enum BhytCommand {
    /// Check GIAMDINHHS, check-in or table 12 files; exits non-zero when any has errors.
    Check(CheckArgs),
    /// Decode an envelope (or a check-in/table 12 file) and print its tables.
    Show { file: String },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Args)]
pub struct CheckArgs {
    #[arg(required = true)]
    files: Vec<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Force the standard instead of detecting QĐ 4210 from the content: 130 or 4210.
    #[arg(long, value_parser = parse_standard)]
    standard: Option<Standard>,
}

fn parse_standard(text: &str) -> Result<Standard, String> {
    Standard::parse(text).ok_or_else(|| format!("unknown standard {text}; use 130 or 4210"))
}

/// Runs a subcommand; `Ok(false)` means the check found errors.
pub fn run(command: &BhytCommand) -> Result<bool, String> {
    match command {
        BhytCommand::Check(args) => check(args),
        BhytCommand::Show { file } => show(file).map(|()| true),
    }
}

fn check_file(path: &str, standard: Option<Standard>) -> Result<Report, String> {
    let mut head = [0u8; 4096];
    let mut file = File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let n = file.read(&mut head).map_err(|e| format!("{path}: {e}"))?;
    let file = File::open(path).map_err(|e| format!("{path}: {e}"))?;
    // Streaming: an envelope is checked one HOSO at a time.
    rules::check_document(
        BufReader::with_capacity(1 << 16, file),
        &head[..n],
        standard,
    )
    .map_err(|e| format!("{path}: {e}"))
}

fn check(args: &CheckArgs) -> Result<bool, String> {
    let mut clean = true;
    let mut files = Vec::new();
    for path in &args.files {
        let report = check_file(path, args.standard);
        clean &= report.as_ref().is_ok_and(|r| r.errors() == 0);
        match args.format {
            Format::Text => print_text(path, &report),
            Format::Json => files.push(json_report(path, &report)),
        }
    }
    match args.format {
        Format::Json => {
            let unchecked: Vec<_> = catalogue::NEEDS_CATALOGUE
                .iter()
                .map(|(id, what)| json!({ "rule": id, "needs": what }))
                .collect();
            let out = json!({ "files": files, "needs_catalogue": unchecked });
            println!(
                "{}",
                serde_json::to_string_pretty(&out).expect("JSON value")
            );
        }
        Format::Text => println!(
            "\n{} rules need outside catalogues and are not checked from the file alone: {}",
            catalogue::NEEDS_CATALOGUE.len(),
            catalogue::NEEDS_CATALOGUE
                .iter()
                .map(|(id, _)| *id)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
    Ok(clean)
}

fn print_text(path: &str, report: &Result<Report, String>) {
    let report = match report {
        Ok(report) => report,
        Err(e) => {
            println!("{path}: UNREADABLE: {e}");
            return;
        }
    };
    let warnings = report.findings.len() - report.errors();
    println!(
        "{path}: {} (QĐ {}), {} HOSO, {} error(s), {} warning(s)",
        report.document.unwrap_or("?"),
        report.standard.map_or("?", Standard::as_str),
        report.hoso_count,
        report.errors(),
        warnings
    );
    let mut current = None;
    for finding in &report.findings {
        if current != Some(finding.hoso) {
            current = Some(finding.hoso);
            match finding.hoso {
                Some(i) => println!("  HOSO[{i}]"),
                None => println!("  file"),
            }
        }
        println!(
            "    {:7} {:12} {}: {} / {}",
            finding.level.as_str(),
            finding.rule,
            finding.location(),
            finding.vi,
            finding.en
        );
    }
}

fn json_report(path: &str, report: &Result<Report, String>) -> serde_json::Value {
    match report {
        Err(e) => json!({ "file": path, "error": e }),
        Ok(report) => json!({
            "file": path,
            "document": report.document,
            "standard": report.standard.map(Standard::as_str),
            "hoso": report.hoso_count,
            "errors": report.errors(),
            "findings": report.findings.iter().map(|f| json!({
                "rule": f.rule,
                "severity": f.level.as_str(),
                "hoso": f.hoso,
                "table": f.table,
                "row": f.row,
                "field": f.field,
                "location": f.location(),
                "vi": f.vi,
                "en": f.en,
            })).collect::<Vec<_>>(),
        }),
    }
}

fn show(path: &str) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let fail = |e: super::ReadError| format!("{path}: {e}");
    let qd130 = spec(Standard::Qd130);
    match Document::recognise(&bytes).map_err(fail)? {
        Document::Envelope => {
            let envelope = Envelope::read(&bytes).map_err(fail)?;
            let h = &envelope.header;
            println!(
                "GIAMDINHHS MACSKCB={} NGAYLAP={} SOLUONGHOSO={}",
                h.macskcb, h.ngaylap, h.soluonghoso
            );
            for (i, hoso) in envelope.hoso.iter().enumerate() {
                let standard = hoso.standard();
                println!("HOSO[{}] (QĐ {})", i + 1, standard.as_str());
                for file in &hoso.files {
                    let location = format!("HOSO[{}].{}", i + 1, file.loaihoso);
                    match spec(standard).table(&file.loaihoso) {
                        Some(table) => print_table(
                            &Table::parse(table, &file.content, &location).map_err(fail)?,
                        ),
                        None => println!("  {location}: unknown LOAIHOSO"),
                    }
                }
            }
            println!(
                "CHUKYDONVI: {}",
                envelope.signature.as_deref().unwrap_or("(absent)")
            );
        }
        Document::CheckIn => print_table(
            &Table::parse(qd130.table("CHECKIN").expect("spec"), &bytes, "CHECKIN")
                .map_err(fail)?,
        ),
        Document::Xml12 => print_table(
            &Table::parse(qd130.table("XML12").expect("spec"), &bytes, "XML12").map_err(fail)?,
        ),
    }
    Ok(())
}

fn print_table(table: &Table) {
    println!(
        "  {} <{}>: {} row(s)",
        table.spec.name,
        table.spec.root,
        table.len()
    );
    for (i, row) in table.rows().enumerate() {
        println!("    [{}]", i + 1);
        for (f, field) in table.spec.fields.iter().enumerate() {
            let value = row.at(f);
            if !value.trim().is_empty() {
                println!("      {:24} {}", field.name, value);
            }
        }
    }
    if let Some(signature) = table.signature() {
        println!("    CHUKYDONVI: {signature}");
    }
}
