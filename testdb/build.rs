//! Embeds the migration files' names and text so the template database is rebuilt whenever
//! a migration changes.

use std::fmt::Write as _;
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let entry = entry?;
        println!("cargo:rerun-if-changed={}", entry.path().display());
        for name in ["up.sql", "down.sql"] {
            let path = entry.path().join(name);
            if path.exists() {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut out = String::from("/// Every migration file, by path, with its text.\nconst MIGRATION_SOURCES: &[(&str, &str)] = &[\n");
    for f in &files {
        let rel = f.strip_prefix(&dir)?.display().to_string();
        writeln!(
            out,
            "    ({rel:?}, include_str!({:?})),",
            f.display().to_string()
        )?;
    }
    out.push_str("];\n");
    std::fs::write(
        Path::new(&std::env::var("OUT_DIR")?).join("migration_sources.rs"),
        out,
    )?;
    Ok(())
}
