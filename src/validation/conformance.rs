//! The conformance kit: `vnfhir conformance build` and `vnfhir conformance validate`.

use std::path::PathBuf;

use clap::Subcommand;

use super::generate;

#[derive(Subcommand)]
pub enum ConformanceCommand {
    /// Regenerate fhir-profiles/vn/vn-core.json (snapshots, CodeSystems, ValueSets) from
    /// fhir-profiles/vn/source/ and the BHYT code lists.
    Build {
        /// The repository root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
}

/// Runs a `conformance` command; `Ok(false)` when cases failed.
pub fn run(command: &ConformanceCommand) -> Result<bool, String> {
    match command {
        ConformanceCommand::Build { root } => {
            let path = generate::write(root)?;
            println!("wrote {}", path.display());
            Ok(true)
        }
    }
}
