//! `vnfhir bhyt check FILE…` and `vnfhir bhyt show FILE`.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use super::envelope::{Document, EnvelopeReader};
use super::rules::catalogue::Catalogues;
use super::rules::{self, Report};
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
    /// A facility catalogue as CSV (repeatable); its first column says which: MA_THUOC
    /// (drugs), MA_DICH_VU (services), MA_VAT_TU (supplies) or MA_BAC_SI (staff list).
    #[arg(long = "catalogue", value_name = "FILE")]
    catalogues: Vec<String>,
}

fn parse_standard(text: &str) -> Result<Standard, String> {
    Standard::parse(text).ok_or_else(|| format!("unknown standard {text}; use 130 or 4210"))
}

/// Why a subcommand stopped before the end.
enum Stop {
    /// The reader of stdout went away (`vnfhir bhyt show FILE | head`): not an error.
    Closed,
    Failed(String),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Stop {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Stop::Closed
        } else {
            Stop::Failed(format!("stdout: {e}"))
        }
    }
}

impl From<String> for Stop {
    fn from(message: String) -> Stop {
        Stop::Failed(message)
    }
}

/// Runs a subcommand; `Ok(false)` means the check found errors. Output goes through one
/// locked, buffered stdout; a closed pipe ends the output quietly.
pub fn run(command: &BhytCommand) -> Result<bool, String> {
    let mut out = BufWriter::new(io::stdout().lock());
    let mut clean = true;
    let result = match command {
        BhytCommand::Check(args) => check(args, &mut out, &mut clean),
        BhytCommand::Show { file } => show(file, &mut out),
    }
    .and_then(|()| out.flush().map_err(Stop::from));
    match result {
        Ok(()) | Err(Stop::Closed) => Ok(clean),
        Err(Stop::Failed(message)) => Err(message),
    }
}

fn check_file(
    path: &str,
    standard: Option<Standard>,
    catalogues: &Catalogues,
) -> Result<Report, String> {
    let mut head = [0u8; 4096];
    let mut file = File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let n = file.read(&mut head).map_err(|e| format!("{path}: {e}"))?;
    let file = File::open(path).map_err(|e| format!("{path}: {e}"))?;
    // Streaming: an envelope is checked one HOSO at a time.
    rules::check_document(
        BufReader::with_capacity(1 << 16, file),
        &head[..n],
        standard,
        catalogues,
    )
    .map_err(|e| format!("{path}: {e}"))
}

fn check(args: &CheckArgs, out: &mut impl Write, clean: &mut bool) -> Result<(), Stop> {
    let mut catalogues = Catalogues::default();
    for path in &args.catalogues {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        catalogues.add_csv(path, &text)?;
    }
    let checked = catalogues.checked();
    let unchecked = catalogues.unchecked();
    let mut files = Vec::new();
    for path in &args.files {
        let report = check_file(path, args.standard, &catalogues);
        *clean &= report.as_ref().is_ok_and(|r| r.errors() == 0);
        match args.format {
            Format::Text => print_text(out, path, &report)?,
            Format::Json => files.push(json_report(path, &report)),
        }
    }
    match args.format {
        Format::Json => {
            let unchecked: Vec<_> = unchecked
                .iter()
                .map(|(id, what)| json!({ "rule": id, "needs": what }))
                .collect();
            let report = json!({
                "files": files,
                "checked_by_catalogue": checked,
                "needs_catalogue": unchecked,
            });
            serde_json::to_writer_pretty(&mut *out, &report).map_err(io::Error::from)?;
            writeln!(out)?;
        }
        Format::Text => {
            if !checked.is_empty() {
                writeln!(
                    out,
                    "\nChecked with the supplied catalogues: {}",
                    checked.join(", ")
                )?;
            }
            writeln!(
                out,
                "\n{} rules need outside catalogues and are not checked from the file alone: {}",
                unchecked.len(),
                unchecked
                    .iter()
                    .map(|(id, _)| *id)
                    .collect::<Vec<_>>()
                    .join(", ")
            )?
        }
    }
    Ok(())
}

fn print_text(out: &mut impl Write, path: &str, report: &Result<Report, String>) -> io::Result<()> {
    let report = match report {
        Ok(report) => report,
        Err(e) => return writeln!(out, "{path}: UNREADABLE: {e}"),
    };
    let warnings = report.findings.len() - report.errors();
    writeln!(
        out,
        "{path}: {} (QĐ {}), {} HOSO, {} error(s), {} warning(s)",
        report.document.unwrap_or("?"),
        report.standard.map_or("?", Standard::as_str),
        report.hoso_count,
        report.errors(),
        warnings
    )?;
    let mut current = None;
    for finding in &report.findings {
        if current != Some(finding.hoso) {
            current = Some(finding.hoso);
            match finding.hoso {
                Some(i) => writeln!(out, "  HOSO[{i}]")?,
                None => writeln!(out, "  file")?,
            }
        }
        writeln!(
            out,
            "    {:7} {:12} {}: {} / {}",
            finding.level.as_str(),
            finding.rule,
            finding.location(),
            finding.vi,
            finding.en
        )?;
    }
    Ok(())
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

/// Prints the tables of a file; an envelope is streamed one HOSO at a time.
fn show(path: &str, out: &mut impl Write) -> Result<(), Stop> {
    let open = || File::open(path).map_err(|e| format!("{path}: {e}"));
    let fail = |e: super::ReadError| format!("{path}: {e}");
    let mut head = Vec::with_capacity(4096);
    open()?
        .take(4096)
        .read_to_end(&mut head)
        .map_err(|e| format!("{path}: {e}"))?;
    let mut input = BufReader::with_capacity(1 << 16, open()?);
    let qd130 = spec(Standard::Qd130);
    let table = match Document::recognise(&head).map_err(fail)? {
        Document::Envelope => return show_envelope(path, input, out),
        Document::CheckIn => "CHECKIN",
        Document::Xml12 => "XML12",
    };
    let mut bytes = Vec::new();
    input
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{path}: {e}"))?;
    let table = Table::parse(qd130.table(table).expect("spec"), bytes, table).map_err(fail)?;
    Ok(print_table(out, &table)?)
}

fn show_envelope(path: &str, input: impl BufRead, out: &mut impl Write) -> Result<(), Stop> {
    let fail = |e: super::ReadError| format!("{path}: {e}");
    let mut reader = EnvelopeReader::new(input).map_err(fail)?;
    let h = &reader.header;
    writeln!(
        out,
        "GIAMDINHHS MACSKCB={} NGAYLAP={} SOLUONGHOSO={}",
        h.macskcb, h.ngaylap, h.soluonghoso
    )?;
    while let Some(hoso) = reader.next_hoso().map_err(fail)? {
        let (index, standard) = (reader.count, hoso.standard());
        writeln!(out, "HOSO[{index}] (QĐ {})", standard.as_str())?;
        for file in hoso.files {
            let location = format!("HOSO[{index}].{}", file.loaihoso);
            match spec(standard).table(&file.loaihoso) {
                Some(table) => print_table(
                    out,
                    &Table::parse(table, file.content, &location).map_err(fail)?,
                )?,
                None => writeln!(out, "  {location}: unknown LOAIHOSO")?,
            }
        }
    }
    let signature = reader.finish().map_err(fail)?;
    writeln!(
        out,
        "CHUKYDONVI: {}",
        signature.as_deref().unwrap_or("(absent)")
    )?;
    Ok(())
}

fn print_table(out: &mut impl Write, table: &Table) -> io::Result<()> {
    writeln!(
        out,
        "  {} <{}>: {} row(s)",
        table.spec.name,
        table.spec.root,
        table.len()
    )?;
    for (i, row) in table.rows().enumerate() {
        writeln!(out, "    [{}]", i + 1)?;
        for (f, field) in table.spec.fields.iter().enumerate() {
            let value = row.at(f);
            if !value.trim().is_empty() {
                writeln!(out, "      {:24} {}", field.name, value)?;
            }
        }
    }
    if let Some(signature) = table.signature() {
        writeln!(out, "    CHUKYDONVI: {signature}")?;
    }
    Ok(())
}
