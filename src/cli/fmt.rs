//! `apimfix fmt`: format files; print a diff, list them (`--check`) or write them.

use std::io::Write;

use apimfix::engine::{self, Formatted};
use apimfix::report::{FileReport, OutputFormat};

use super::args::FmtArgs;
use super::{
    Outcome, Stream, color_for, eprint_reports, paint_diff, plural, print_notes, print_top_errors,
    report_of,
};

pub fn run(args: &FmtArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let format = args.output_format.unwrap_or(OutputFormat::Text);
    if !matches!(
        format,
        OutputFormat::Text | OutputFormat::Json | OutputFormat::Github
    ) {
        anyhow::bail!("`fmt --check --output-format` takes `text`, `json` or `github`");
    }
    if args.files.show_settings {
        return super::check::show_settings(&args.files, out);
    }
    let options = engine::Options {
        write: args.write,
        list_only: args.check,
        ..super::engine_options(&args.files)
    };
    let shown = super::progress::Shown::start(args.files.hushed());
    let mut run = engine::fmt(super::engine_inputs(&args.files)?, &options, &shown)
        .map_err(super::run_error)?;
    super::leak_at_exit(std::mem::take(&mut run.listings));
    // The formatter does not look at scopes: a file of unknown scope is formatted like any.
    run.unknown_scope.clear();
    print_notes(&run, &args.files);
    super::warn_if_nothing_read(
        run.results.len(),
        run.reads_stdin,
        run.errors.len(),
        &args.files,
    );
    let color = color_for(Stream::Stdout);
    let mut changed = 0usize;
    let mut unchanged = 0usize;
    let mut listed: Vec<String> = Vec::new();
    let mut failed: Vec<FileReport> = Vec::new();
    for file in run.results {
        match file {
            Formatted::Unchanged { output } => {
                unchanged += 1;
                if let Some(output) = output {
                    out.write_all(&output)?;
                }
            }
            Formatted::Changed {
                display_path,
                output,
            } => {
                changed += 1;
                if args.check {
                    if format == OutputFormat::Text {
                        writeln!(out, "{display_path}")?;
                    } else {
                        listed.push(display_path);
                    }
                } else if let Some(output) = output {
                    if run.reads_stdin {
                        out.write_all(&output)?;
                    } else {
                        let text = String::from_utf8_lossy(&output);
                        out.write_all(paint_diff(&text, color).as_bytes())?;
                    }
                }
            }
            Formatted::Failed(result) => failed.push(report_of(*result)),
        }
    }
    match format {
        OutputFormat::Json => write_json(out, &listed, &failed, &run.errors)?,
        OutputFormat::Github => write_github(out, &listed, &failed)?,
        _ => {}
    }
    out.flush()?;
    if !args.files.silent {
        eprint_reports(failed.iter());
        print_top_errors(&run.errors);
    }
    if !args.files.hushed() && !run.reads_stdin {
        let what = if args.write {
            "reformatted"
        } else {
            "would be reformatted"
        };
        // Files that could not be formatted or written count too, as ruff's summary does.
        // Paths refused before reading (a link not followed, a missing file) too.
        let not_done = match failed.len() + run.errors.len() {
            0 => String::new(),
            1 => ", 1 file could not be formatted or written".to_owned(),
            n => format!(", {n} files could not be formatted or written"),
        };
        eprintln!(
            "{changed} file{} {what}, {unchanged} already formatted{not_done}",
            plural(changed),
        );
        if !args.write && changed > 0 {
            eprintln!("Format them with `apimfix fmt --write`");
        }
    }
    let errored = !run.errors.is_empty() || !failed.is_empty();
    Ok(if errored {
        Outcome::Error
    } else if changed > 0 && !args.write && (!run.reads_stdin || args.check) {
        Outcome::Pending
    } else {
        Outcome::Clean
    })
}

/// `fmt --check --output-format json`: `{"version": 1, "unformatted": [paths], "errors":
/// [{"path", "message"}]}`.
fn write_json(
    out: &mut dyn Write,
    unformatted: &[String],
    failed: &[FileReport],
    errors: &[engine::PathError],
) -> std::io::Result<()> {
    let mut error_list: Vec<serde_json::Value> = failed
        .iter()
        .map(|r| {
            serde_json::json!({
                "path": r.display_path,
                "message": error_message(r),
            })
        })
        .collect();
    error_list.extend(errors.iter().map(|e| {
        serde_json::json!({
            "path": e.path.as_deref().map(engine::display_path),
            "message": e.error.to_string(),
        })
    }));
    let doc = serde_json::json!({
        "version": 1,
        "unformatted": unformatted,
        "errors": error_list,
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}

/// `fmt --check --output-format github`: a warning annotation per unformatted file, an error
/// per file that could not be formatted.
fn write_github(
    out: &mut dyn Write,
    unformatted: &[String],
    failed: &[FileReport],
) -> std::io::Result<()> {
    use apimfix::report::github::{escape_data, escape_property};
    for path in unformatted {
        writeln!(
            out,
            "::warning file={},title={}::{}",
            escape_property(path),
            escape_property("apimfix fmt"),
            escape_data("not formatted: run `apimfix fmt --write` (or `apimfix fmt` for the diff)")
        )?;
    }
    for report in failed {
        use apimfix::report::FileError;
        // A syntax error is placed on its line, so the annotation sits there; other errors
        // are about the whole file.
        match &report.error {
            Some(FileError::Syntax(e)) => {
                let at = report.position(report.clamp(e.range).start());
                writeln!(
                    out,
                    "::error file={},line={},col={},title={}::{}",
                    escape_property(&report.display_path),
                    at.line,
                    at.column,
                    escape_property("apimfix fmt"),
                    escape_data(&e.message)
                )?;
            }
            _ => writeln!(
                out,
                "::error file={},title={}::{}",
                escape_property(&report.display_path),
                escape_property("apimfix fmt"),
                escape_data(&error_message(report))
            )?,
        }
    }
    Ok(())
}

fn error_message(report: &FileReport) -> String {
    use apimfix::report::FileError;
    match &report.error {
        Some(FileError::Syntax(e)) => {
            let at = report.position(report.clamp(e.range).start());
            format!("{}:{}: {}", at.line, at.column, e.message)
        }
        Some(FileError::Io(e)) => e.to_string(),
        Some(FileError::Other(m)) | Some(FileError::Internal(m)) => m.clone(),
        None => String::new(),
    }
}
