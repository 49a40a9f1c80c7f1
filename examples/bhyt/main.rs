//! Streams a GIAMDINHHS of N clean sample HOSO (an inpatient stay with 20 drug and 20 service
//! lines each) to stdout: the input of the CLI throughput and memory measurement.
//!
//! ```sh
//! cargo run --release --example bhyt -- 10000 > /tmp/bhyt-10k.xml
//! /usr/bin/time -v target/release/vnfhir bhyt check /tmp/bhyt-10k.xml
//! ```

use std::io::{self, BufWriter, Write};

use vnfhir::bhyt::envelope::{write_end, write_hoso, write_start};
use vnfhir::bhyt::sample::{dossier, header};

fn main() -> io::Result<()> {
    let count = match std::env::args().nth(1) {
        None => 10_000,
        Some(n) => n
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "usage: bhyt [HOSO]"))?,
    };
    let mut out = BufWriter::new(io::stdout().lock());
    write_start(&mut out, &header(count))?;
    for i in 0..count {
        write_hoso(&mut out, &dossier(&format!("LK{i:06}"), 20, 20, true))?;
    }
    write_end(&mut out, None)?;
    out.flush()
}
