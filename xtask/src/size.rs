//! Precompressed copies (served as-is by the server) and the size report with budgets.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::build::io;
use crate::Result;

pub struct Budget {
    pub name: &'static str,
    pub files: Vec<PathBuf>,
    pub max_brotli: usize,
}

pub struct Sizes {
    pub raw: usize,
    pub gzip: usize,
    pub brotli: usize,
}

/// Writes `file.br` (brotli, quality 11) and `file.gz` (gzip, level 9) beside `file`.
pub fn precompress(file: &Path) -> Result {
    let bytes = fs::read(file).map_err(io("read for compression"))?;
    fs::write(with_suffix(file, "br"), brotli(&bytes)).map_err(io("write .br"))?;
    fs::write(with_suffix(file, "gz"), gzip(&bytes)).map_err(io("write .gz"))?;
    Ok(())
}

fn with_suffix(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).expect("in-memory brotli cannot fail");
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("in-memory gzip cannot fail");
    encoder.finish().expect("in-memory gzip cannot fail")
}

pub fn sizes(file: &Path) -> Result<Sizes> {
    let bytes = fs::read(file).map_err(io("read for size"))?;
    Ok(Sizes { raw: bytes.len(), gzip: gzip(&bytes).len(), brotli: brotli(&bytes).len() })
}

/// Prints raw / gzip / brotli per file and per budget, writes `size-report.json`, and fails
/// when a budget is exceeded.
pub fn report(dist: &Path, budgets: &[Budget]) -> Result {
    let mut json = String::from("{\n");
    let mut over = Vec::new();
    println!("\nSize report (bytes)            raw      gzip    brotli");
    for (i, budget) in budgets.iter().enumerate() {
        let mut total = Sizes { raw: 0, gzip: 0, brotli: 0 };
        let mut files_json = Vec::new();
        for file in &budget.files {
            let s = sizes(file)?;
            let name = file.strip_prefix(dist).unwrap_or(file).display().to_string();
            println!("  {:<28} {:>8} {:>9} {:>9}", short(&name), s.raw, s.gzip, s.brotli);
            files_json.push(format!(
                "      {{\"file\": \"{name}\", \"raw\": {}, \"gzip\": {}, \"brotli\": {}}}",
                s.raw, s.gzip, s.brotli
            ));
            total.raw += s.raw;
            total.gzip += s.gzip;
            total.brotli += s.brotli;
        }
        let verdict = if total.brotli <= budget.max_brotli { "ok" } else { "OVER BUDGET" };
        println!(
            "  = {:<26} {:>8} {:>9} {:>9}  (budget {} brotli: {verdict})",
            budget.name, total.raw, total.gzip, total.brotli, budget.max_brotli
        );
        if total.brotli > budget.max_brotli {
            over.push(format!("{}: {} bytes brotli > {}", budget.name, total.brotli, budget.max_brotli));
        }
        json.push_str(&format!(
            "  \"{}\": {{\n    \"raw\": {}, \"gzip\": {}, \"brotli\": {}, \"budget_brotli\": {},\n    \"files\": [\n{}\n    ]\n  }}{}\n",
            budget.name,
            total.raw,
            total.gzip,
            total.brotli,
            budget.max_brotli,
            files_json.join(",\n"),
            if i + 1 < budgets.len() { "," } else { "" }
        ));
    }
    json.push_str("}\n");
    fs::write(dist.join("size-report.json"), json).map_err(io("write size-report.json"))?;
    if over.is_empty() {
        Ok(())
    } else {
        Err(format!("size budget exceeded: {}", over.join("; ")))
    }
}

fn short(name: &str) -> String {
    // Hashes make names long; the report is for humans.
    if name.len() > 28 {
        format!("{}…", &name[..27])
    } else {
        name.to_owned()
    }
}
