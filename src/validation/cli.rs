//! `vnfhir validate FILE… [--profile URL] [--vn]`: validates resources from files, folders
//! (every `*.json` below them) and Bundles (each entry's resource), prints the issues grouped
//! per file, and fails when any resource has an error.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::Value;

use super::Validator;
use crate::fhir::outcome::{Issue, Severity};

#[derive(Args)]
pub struct ValidateArgs {
    /// Files or folders (folders are searched for *.json); a Bundle is checked entry by entry.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Also check against this profile (repeatable); profiles in meta.profile always apply.
    #[arg(long = "profile")]
    pub profiles: Vec<String>,
    /// Also check each resource against the VN Core profile of its type.
    #[arg(long)]
    pub vn: bool,
    /// Canonical base of the VN profiles.
    #[arg(
        long,
        env = "VNFHIR_CANONICAL_BASE",
        default_value = "https://fhir.vnfhir.org"
    )]
    pub canonical_base: String,
}

/// Totals over a run.
#[derive(Default)]
struct Tally {
    files: usize,
    resources: usize,
    errors: usize,
    warnings: usize,
    unreadable: usize,
}

/// Runs the command; `Ok(false)` when a resource has an error or a file cannot be read.
pub fn run(args: &ValidateArgs) -> Result<bool, String> {
    let validator = Validator::load(&args.canonical_base)?;
    let profiles: Vec<&str> = args.profiles.iter().map(String::as_str).collect();
    let mut tally = Tally::default();
    let mut files = Vec::new();
    for path in &args.paths {
        collect_files(path, &mut files)?;
    }
    for file in &files {
        let report = validate_file(&validator, file, &profiles, args.vn, &mut tally);
        print!("{report}");
    }
    println!(
        "\n{} tệp, {} tài nguyên: {} lỗi, {} cảnh báo / {} files, {} resources: {} errors, {} warnings",
        tally.files,
        tally.resources,
        tally.errors,
        tally.warnings,
        tally.files,
        tally.resources,
        tally.errors,
        tally.warnings
    );
    Ok(tally.errors == 0 && tally.unreadable == 0)
}

fn collect_files(path: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    if !path.is_dir() {
        files.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect_files(&entry, files)?;
        } else if entry.extension().is_some_and(|e| e == "json") {
            files.push(entry);
        }
    }
    Ok(())
}

/// The report of one file: a header line, then each resource's issues.
fn validate_file(
    validator: &Validator,
    file: &Path,
    profiles: &[&str],
    vn: bool,
    tally: &mut Tally,
) -> String {
    tally.files += 1;
    let mut out = String::new();
    let resource = std::fs::read_to_string(file)
        .map_err(|e| e.to_string())
        .and_then(|text| serde_json::from_str::<Value>(&text).map_err(|e| e.to_string()));
    let resource = match resource {
        Ok(resource) => resource,
        Err(error) => {
            tally.unreadable += 1;
            let _ = writeln!(
                out,
                "{}: không đọc được / unreadable: {error}",
                file.display()
            );
            return out;
        }
    };
    let _ = writeln!(out, "{}", file.display());
    let entries: Vec<(String, &Value)> = match resource["resourceType"].as_str() {
        Some("Bundle") => resource["entry"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .filter(|(_, entry)| entry.get("resource").is_some())
            .map(|(i, entry)| (format!("Bundle.entry[{i}].resource "), &entry["resource"]))
            .collect(),
        _ => vec![(String::new(), &resource)],
    };
    for (label, resource) in entries {
        tally.resources += 1;
        let mut wanted = profiles.to_vec();
        if vn {
            wanted.extend(
                resource["resourceType"]
                    .as_str()
                    .and_then(|t| validator.vn_profile(t)),
            );
        }
        let issues = validator.validate(resource, &wanted);
        let name = format!(
            "{label}{}/{}",
            resource["resourceType"].as_str().unwrap_or("?"),
            resource["id"].as_str().unwrap_or("(không id / no id)")
        );
        if issues.is_empty() {
            let _ = writeln!(out, "  {name}: hợp lệ / valid");
            continue;
        }
        let _ = writeln!(out, "  {name}:");
        for issue in &issues {
            match issue.severity {
                Severity::Fatal | Severity::Error => tally.errors += 1,
                Severity::Warning => tally.warnings += 1,
                Severity::Information => {}
            }
            out.push_str(&render(issue));
        }
    }
    out
}

fn render(issue: &Issue) -> String {
    let label = match issue.severity {
        Severity::Fatal => "nghiêm trọng / fatal",
        Severity::Error => "lỗi / error",
        Severity::Warning => "cảnh báo / warning",
        Severity::Information => "thông tin / information",
    };
    format!(
        "    {label}  [{}]  {}\n      {}\n      {}\n",
        issue.code,
        issue.expression.as_deref().unwrap_or(""),
        issue.vi,
        issue.en
    )
}
