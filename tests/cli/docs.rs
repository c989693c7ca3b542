//! The committed man pages and completion scripts match the clap tree.

#[test]
fn man_pages_and_completions_are_up_to_date() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stale = Vec::new();
    for (rel, expected) in tok::cli::docs::render_all() {
        match std::fs::read(root.join(&rel)) {
            Ok(actual) if actual == expected => {}
            _ => stale.push(rel.display().to_string()),
        }
    }
    assert!(
        stale.is_empty(),
        "stale or missing generated files: {stale:?}\nregenerate with: cargo run -- generate-docs --out-dir ."
    );
}

#[test]
fn no_orphan_generated_files() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let expected: std::collections::HashSet<_> = tok::cli::docs::render_all()
        .into_iter()
        .map(|(rel, _)| rel)
        .collect();
    for dir in ["man", "completions"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("generated dir exists") {
            let rel = std::path::Path::new(dir).join(entry.expect("dir entry").file_name());
            assert!(
                expected.contains(&rel),
                "{} is no longer generated; delete it",
                rel.display()
            );
        }
    }
}

#[test]
fn every_man_page_documents_exit_codes() {
    for (rel, bytes) in tok::cli::docs::render_all() {
        if rel.starts_with("man") {
            let text = String::from_utf8(bytes).expect("man page is UTF-8");
            assert!(
                text.contains("cancelled at a prompt"),
                "{} lacks exit codes",
                rel.display()
            );
        }
    }
}
