//! Unit tests of the CSV reader: columns, line numbers, results files, bad files.

use super::super::{Format, ManifestError, ReadOptions, read_manifest_bytes};
use super::*;
use crate::schema::{Status, Step};

fn read_str(text: &str) -> Manifest {
    read_manifest_bytes(
        "m.csv",
        text.as_bytes(),
        Format::Csv,
        &ReadOptions::default(),
    )
    .unwrap()
}

fn text(v: &Option<RawValue>) -> &str {
    v.as_ref().map_or("", |v| v.text.as_str())
}

/// Diagnostics in their one-line form.
fn lines<'a>(diagnostics: impl IntoIterator<Item = &'a Diagnostic>) -> Vec<String> {
    diagnostics.into_iter().map(|d| d.to_string()).collect()
}

#[test]
fn reads_columns_in_any_order_and_case() {
    let m = read_str(" Phone_Number ,CC,WABA_ID,verified_name\n7700 900123,44,123, Acme \n");
    assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
    assert_eq!(m.rows.len(), 1);
    let r = &m.rows[0];
    assert_eq!(r.row, 1);
    assert_eq!(r.source.to_string(), "m.csv:2");
    assert_eq!(text(&r.fields.phone_number), "7700 900123");
    assert_eq!(text(&r.fields.cc), "44");
    assert_eq!(text(&r.fields.waba_id), "123");
    assert_eq!(text(&r.fields.verified_name), "Acme");
    assert_eq!(r.fields.token_env, None, "absent column = absent");
    assert!(r.prior.is_none());
}

#[test]
fn empty_cells_are_absent_and_blank_ones_given() {
    let m = read_str("waba_id,cc,phone_number,token_env,verified_name\n1,44,7700900123,,  \n");
    assert_eq!(m.rows[0].fields.token_env, None);
    assert_eq!(
        m.rows[0]
            .fields
            .verified_name
            .as_ref()
            .map(|v| v.text.as_str()),
        Some(""),
        "given, blank after trimming"
    );
}

#[test]
fn lines_with_bom_crlf_blank_lines_and_multiline_fields() {
    let csv = "\u{feff}waba_id,cc,phone_number,verified_name\r\n\
               1,44,7700900123,A\r\n\
               \r\n\
               1,44,7700900124,\"two\r\nlines\"\r\n\
               1,44,7700900125,C\r\n";
    let m = read_str(csv);
    assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
    let lines: Vec<u32> = m.rows.iter().map(|r| r.source.line).collect();
    assert_eq!(lines, [2, 4, 6]);
    let rows: Vec<u32> = m.rows.iter().map(|r| r.row).collect();
    assert_eq!(rows, [1, 2, 3]);
    assert_eq!(text(&m.rows[1].fields.verified_name), "two\r\nlines");
}

#[test]
fn unknown_and_duplicate_columns_are_errors_at_the_header() {
    let m = read_str("waba_id,cc,phone_number,verfied_name,colour,CC\n1,44,7700900123,A,red,44\n");
    assert_eq!(
        lines(&m.diagnostics),
        [
            "m.csv:1: error: verfied_name: unknown column (did you mean `verified_name`?)",
            "m.csv:1: error: colour: unknown column (a column of your own? carry it into the results with --ignore-column 'colour')",
            "m.csv:1: error: cc: column given twice (columns 2 and 6)",
        ]
    );
    assert_eq!(m.rows.len(), 1, "rows are still read and checked");
}

fn read_with(text: &str, options: &ReadOptions) -> Manifest {
    read_manifest_bytes("m.csv", text.as_bytes(), Format::Csv, options).unwrap()
}

#[test]
fn semicolon_and_tab_separated_files_are_read() {
    for sep in [";", "\t"] {
        let csv = format!(
            "waba_id{sep}cc{sep}phone_number{sep}verified_name\n1{sep}44{sep}7700 900123{sep}\"Acme, Ltd; UK\"\n"
        );
        let m = read_str(&csv);
        assert!(m.diagnostics.is_empty(), "{sep:?}: {:?}", m.diagnostics);
        assert_eq!(text(&m.rows[0].fields.phone_number), "7700 900123");
        assert_eq!(text(&m.rows[0].fields.verified_name), "Acme, Ltd; UK");
    }
}

#[test]
fn delimiter_option_overrides_the_guess() {
    let pipes = read_with(
        "waba_id|cc|phone_number\n1|44|7700900123\n",
        &ReadOptions {
            delimiter: Some(b'|'),
            ..ReadOptions::default()
        },
    );
    assert!(pipes.diagnostics.is_empty(), "{:?}", pipes.diagnostics);
    assert_eq!(text(&pipes.rows[0].fields.cc), "44");
    // Told `,` for a `;` file: every name is unknown, and the hint says why.
    let wrong = read_with(
        "waba_id;cc;phone_number\n1;44;7700900123\n",
        &ReadOptions {
            delimiter: Some(b','),
            ..ReadOptions::default()
        },
    );
    assert!(
        wrong.diagnostics[0]
            .message
            .contains("(the header looks separated by `;`: try --delimiter ';')"),
        "{:?}",
        wrong.diagnostics
    );
    assert_eq!(
        lines(&read_str("waba_id;cc;phone_number\n1;44\n").row_diagnostics),
        [
            "m.csv:2: error: record: has 2 fields but the header has 3 columns (a missing or extra semicolon?)"
        ]
    );
}

#[test]
fn spreadsheet_column_names_get_did_you_mean() {
    let m =
        read_str("waba_id,country_code,Phone Number,display_name,Client\n1,44,7700900123,Acme,X\n");
    assert_eq!(
        lines(&m.diagnostics),
        [
            "m.csv:1: error: country_code: unknown column (did you mean `cc`?)",
            "m.csv:1: error: Phone Number: unknown column (did you mean `phone_number`?)",
            "m.csv:1: error: display_name: unknown column (did you mean `verified_name`?)",
            "m.csv:1: error: Client: unknown column (a column of your own? carry it into the results with --ignore-column 'Client')",
            "m.csv:1: error: cc: required column is missing",
            "m.csv:1: error: phone_number: required column is missing",
        ]
    );
}

#[test]
fn ignored_columns_are_carried_in_header_order() {
    let options = ReadOptions {
        ignore_columns: vec!["notes".into(), "CLIENT".into(), "Region".into()],
        ..ReadOptions::default()
    };
    let m = read_with(
        "Client,waba_id,cc,phone_number,Notes\nAcme,1,44,7700900123,first\nBella,1,44,7700900124,\n",
        &options,
    );
    assert_eq!(
        lines(&m.diagnostics),
        ["m.csv:1: warning: Region: --ignore-column names no column of this header"]
    );
    assert_eq!(m.extra_columns, ["Client", "Notes"]);
    let extra: Vec<Vec<&str>> = m
        .rows
        .iter()
        .map(|r| r.extra.iter().map(|v| &**v).collect())
        .collect();
    assert_eq!(extra, [vec!["Acme", "first"], vec!["Bella", ""]]);
    assert!(
        read_str("waba_id,cc,phone_number\n1,44,7700900123\n").rows[0]
            .extra
            .is_empty()
    );
}

#[test]
fn a_column_the_tool_reads_cannot_be_ignored() {
    let options = ReadOptions {
        ignore_columns: vec!["verified_name".into()],
        ..ReadOptions::default()
    };
    let m = read_with(
        "waba_id,cc,phone_number,verified_name\n1,44,7700900123,A\n",
        &options,
    );
    assert_eq!(
        lines(&m.diagnostics),
        [
            "m.csv:1: error: verified_name: --ignore-column names a column this tool reads: it cannot be ignored"
        ]
    );
}

#[test]
fn missing_required_column_is_reported_once() {
    let m = read_str("waba_id,phone_numbr\n1,7700900123\n1,7700900124\n");
    assert_eq!(
        lines(&m.diagnostics),
        [
            "m.csv:1: error: phone_numbr: unknown column (did you mean `phone_number`?)",
            "m.csv:1: error: cc: required column is missing",
            "m.csv:1: error: phone_number: required column is missing",
        ]
    );
    assert!(m.rows.is_empty());
}

#[test]
fn wrong_field_count_makes_the_row_invalid() {
    let m = read_str("waba_id,cc,phone_number\n1,44,7700900123\n1,44\n1,44,7700900125,x\n");
    assert_eq!(m.rows.len(), 3);
    assert_eq!(
        lines(&m.row_diagnostics),
        [
            "m.csv:3: error: record: has 2 fields but the header has 3 columns (a missing or extra comma?)",
            "m.csv:4: error: record: has 4 fields but the header has 3 columns (a missing or extra comma?)",
        ]
    );
    let problems: Vec<usize> = m.rows.iter().map(|r| r.problems.len()).collect();
    assert_eq!(problems, [0, 1, 1]);
    assert!(m.rows[1].problems[0].starts_with("record: has 2 fields"));
}

#[test]
fn results_file_is_a_manifest() {
    // A results file of the first version (19 columns) is still a manifest.
    let header = crate::schema::COLUMNS[..crate::schema::V1_COLUMNS].join(",");
    let csv = format!(
        "{header}\n\
         7,orig.yaml:12,1,44,7700900123,false,,Acme,,created,555,,,,,,200,1,2026-01-01T00:00:00Z\n\
         8,orig.yaml:13,1,44,7700900124,false,,Acme,,failed,,131000,,,boom,,400,5,2026-01-01T00:00:00Z\n"
    );
    let m = read_str(&csv);
    assert!(m.is_results_file());
    assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
    assert!(m.row_diagnostics.is_empty(), "{:?}", m.row_diagnostics);
    let p = m.rows[0].prior.as_deref().unwrap();
    assert_eq!(
        (p.row, p.source.as_str(), p.status, p.step()),
        (7, "orig.yaml:12", Status::Created, Step::Create)
    );
    assert_eq!(p.phone_number_id, "555");
    assert_eq!(
        text(&m.rows[0].fields.verified_name),
        "Acme",
        "a manifest field too"
    );
    let p = m.rows[1].prior.as_deref().unwrap();
    assert_eq!(
        (p.row, p.status, p.error_message.as_str()),
        (8, Status::Failed, "boom")
    );
    assert_eq!(m.rows[1].source.to_string(), "m.csv:3");
    assert!(!read_str("waba_id,cc,phone_number\n1,44,7700900123\n").is_results_file());
}

#[test]
fn a_current_results_file_in_another_order_carries_its_own_columns() {
    let mut names: Vec<&str> = crate::schema::COLUMNS.to_vec();
    names.reverse();
    names.push("Client");
    let mut cells = vec![""; names.len()];
    for (name, value) in [
        ("row", "4"),
        ("source", "m.yaml:9"),
        ("waba_id", "1"),
        ("cc", "44"),
        ("phone_number", "7700900123"),
        ("status", "code_requested"),
        ("step", "request_code"),
        ("phone_number_id", "99"),
        ("attempts", "2"),
        ("code_method", "VOICE"),
        ("language", "pt_BR"),
        ("Client", "Acme"),
    ] {
        cells[names.iter().position(|n| *n == name).unwrap()] = value;
    }
    let m = read_str(&format!("{}\n{}\n", names.join(","), cells.join(",")));
    assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
    assert_eq!(
        m.extra_columns,
        ["Client"],
        "carried without --ignore-column"
    );
    let r = &m.rows[0];
    assert_eq!(&*r.extra, [Box::from("Acme")]);
    assert_eq!(
        text(&r.fields.code_method),
        "VOICE",
        "a results column is a manifest field"
    );
    assert_eq!(text(&r.fields.language), "pt_BR");
    let p = r.prior.as_deref().unwrap();
    assert_eq!(
        (p.row, p.status, p.step()),
        (4, Status::CodeRequested, Step::RequestCode)
    );
}

#[test]
fn results_file_with_bad_row_status_step_or_attempts() {
    let header = crate::schema::COLUMNS.join(",");
    let csv = format!("{header}\nx,a:1,1,44,7700900123,,,,,done,,,,,,,,many,,later,,,,,\n");
    let m = read_str(&csv);
    assert_eq!(
        lines(&m.row_diagnostics),
        [
            "m.csv:2: error: row: `x` is not a row number (a positive whole number)",
            "m.csv:2: error: status: `done` is not a status: one of created, code_requested, verified, registered, failed, invalid, skipped",
            "m.csv:2: error: attempts: `many` is not a number of attempts (a whole number)",
            "m.csv:2: error: step: `later` is not a step: one of create, request_code, verify_code, register",
        ]
    );
    assert!(m.rows[0].prior.is_none());
    assert_eq!(m.rows[0].problems.len(), 4);
}

#[test]
fn a_partial_results_header_is_refused_at_the_header() {
    let m = read_str("row,source,status,waba_id,cc,phone_number\n7,a:1,failed,1,44,7700900123\n");
    assert_eq!(m.diagnostics.len(), 1, "{:?}", m.diagnostics);
    assert!(
        m.diagnostics[0].message.starts_with(
            "a results file (it has `row` and `status`) has every results column; missing: `migrate_phone_number`, "
        ),
        "{}",
        m.diagnostics[0]
    );
    let m = read_str("waba_id,cc,phone_number,error_code\n1,44,7700900123,100\n");
    assert_eq!(
        lines(&m.diagnostics),
        [
            "m.csv:1: error: error_code: is a results column, but this file has no `row` and `status` columns: it is not a results file"
        ]
    );
}

#[test]
fn value_in_unnamed_column_is_an_error_and_blank_one_is_not() {
    let m = read_str("waba_id,cc,phone_number,\n1,44,7700900123,\n1,44,7700900124,oops\n");
    assert_eq!(m.row_diagnostics.len(), 1);
    assert_eq!(m.rows[1].problems.len(), 1);
    assert_eq!(m.row_diagnostics[0].field, "column 4");
}

#[test]
fn unterminated_quote_is_one_error_at_its_line() {
    let e = read_manifest_bytes(
        "m.csv",
        b"waba_id,cc,phone_number\n1,44,7700900123\n1,\"44,7700900124\n1,44,7700900125\n",
        Format::Csv,
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "m.csv:3: broken CSV: a quoted field opens here and is never closed"
    );
    // A quote inside an unquoted field is literal, as in csv-core.
    let m = read_str("waba_id,cc,phone_number,verified_name\n1,44,7700900123,12\" Pizza\n");
    assert_eq!(text(&m.rows[0].fields.verified_name), "12\" Pizza");
}

#[test]
fn header_only_is_one_error() {
    let e = read_manifest_bytes(
        "m.csv",
        b"waba_id,cc,phone_number\n",
        Format::Csv,
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, ManifestError::NoRows { .. }));
    assert_eq!(e.to_string(), "m.csv: the CSV has a header but no rows");
}

#[test]
fn delimiter_option_values() {
    let p = ReadOptions::parse_delimiter;
    assert_eq!(p(";"), Ok(b';'));
    assert_eq!(p("|"), Ok(b'|'));
    assert_eq!(p("tab"), Ok(b'\t'));
    assert_eq!(p("\\t"), Ok(b'\t'));
    assert_eq!(p("\t"), Ok(b'\t'));
    for bad in ["", ";;", "é", "a", "1", "\"", "\n"] {
        assert!(p(bad).is_err(), "{bad:?}");
    }
}
