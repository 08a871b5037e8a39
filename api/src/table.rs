//! Tabular documents (reports, notices, compliance) described once and written as CSV, XLSX or
//! printable HTML, so that the three downloads of a report always show the same cells.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use rust_xlsxwriter::{Format as CellFormat, FormatAlign, FormatBorder, Workbook, XlsxError};

use crate::error::ApiError;

/// The media type of XLSX workbooks.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A cell's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text.
    Text(String),
    /// A count.
    Count(u64),
    /// A score or ratio.
    Number(f64),
    /// Nothing.
    Empty,
}

impl Cell {
    /// Text of anything printable.
    pub fn text(value: impl ToString) -> Self {
        Self::Text(value.to_string())
    }

    fn plain(&self) -> String {
        match self {
            Self::Text(t) => crate::http::csv_text(t).into_owned(),
            Self::Count(n) => n.to_string(),
            Self::Number(x) => x.to_string(),
            Self::Empty => String::new(),
        }
    }

    fn is_numeric(&self) -> bool {
        matches!(self, Self::Count(_) | Self::Number(_))
    }
}

/// A column: its machine name (the CSV header), its label, and the label of the group of
/// columns it belongs to (the form's first header row), if any.
#[derive(Debug, Clone)]
pub struct Column {
    /// CSV header, camelCase.
    pub key: String,
    /// Label in the spreadsheet and the page.
    pub label: String,
    /// The label spanning this column and its neighbours with the same group.
    pub group: Option<String>,
}

impl Column {
    /// A column outside any group.
    pub fn new(key: &str, label: &str) -> Self {
        Self {
            key: key.to_owned(),
            label: label.to_owned(),
            group: None,
        }
    }

    /// A column under `group`.
    pub fn under(group: &str, key: &str, label: &str) -> Self {
        Self {
            group: Some(group.to_owned()),
            ..Self::new(key, label)
        }
    }
}

/// One table: a sheet of a workbook, a section of a page.
#[derive(Debug, Clone)]
pub struct Table {
    /// The sheet's name (at most 31 characters).
    pub sheet: String,
    /// The title above the table.
    pub title: String,
    /// Lines under the title (unit, period …).
    pub notes: Vec<String>,
    /// The columns.
    pub columns: Vec<Column>,
    /// The rows.
    pub rows: Vec<Vec<Cell>>,
    /// The totals row, if any.
    pub total: Option<Vec<Cell>>,
}

/// Runs of neighbouring columns with the same group: (first, last, group).
fn header_runs(columns: &[Column]) -> Vec<(usize, usize, Option<&str>)> {
    let mut runs: Vec<(usize, usize, Option<&str>)> = Vec::new();
    for (i, c) in columns.iter().enumerate() {
        match runs.last_mut() {
            Some(run) if run.2.is_some() && run.2 == c.group.as_deref() => run.1 = i,
            _ => runs.push((i, i, c.group.as_deref())),
        }
    }
    runs
}

impl Table {
    fn two_header_rows(&self) -> bool {
        self.columns.iter().any(|c| c.group.is_some())
    }

    /// The table as CSV, UTF-8 with a byte-order mark (Excel then shows Vietnamese): one header
    /// row of column keys, the rows, the totals row.
    pub fn csv(&self) -> Result<Vec<u8>, ApiError> {
        let mut writer = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
        let fail = |e: csv::Error| ApiError::Internal(format!("writing CSV: {e}"));
        writer
            .write_record(self.columns.iter().map(|c| c.key.as_str()))
            .map_err(fail)?;
        for row in self.rows.iter().chain(self.total.as_ref()) {
            writer
                .write_record(row.iter().map(Cell::plain))
                .map_err(fail)?;
        }
        writer
            .into_inner()
            .map_err(|e| ApiError::Internal(format!("writing CSV: {e}")))
    }
}

fn xlsx_error(e: XlsxError) -> ApiError {
    ApiError::Internal(format!("writing XLSX: {e}"))
}

/// The tables as an XLSX workbook, one sheet each: the title and notes merged across the
/// table, the header (two rows with merged group cells when columns are grouped), the rows,
/// the totals row in bold.
pub fn xlsx(tables: &[Table]) -> Result<Vec<u8>, ApiError> {
    let mut book = Workbook::new();
    let title = CellFormat::new().set_bold().set_font_size(13);
    let note = CellFormat::new().set_italic();
    let head = CellFormat::new()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap()
        .set_border(FormatBorder::Thin);
    let body = CellFormat::new().set_border(FormatBorder::Thin);
    let total = body.clone().set_bold();
    for table in tables {
        let sheet = book.add_worksheet();
        sheet.set_name(&table.sheet).map_err(xlsx_error)?;
        let last = u16::try_from(table.columns.len().saturating_sub(1)).unwrap_or(u16::MAX);
        let mut row: u32 = 0;
        for (text, format) in
            std::iter::once((&table.title, &title)).chain(table.notes.iter().map(|n| (n, &note)))
        {
            if last == 0 {
                sheet.write_string_with_format(row, 0, text, format)
            } else {
                sheet.merge_range(row, 0, row, last, text, format)
            }
            .map_err(xlsx_error)?;
            row += 1;
        }
        row += 1;
        let two = table.two_header_rows();
        for (first, end, group) in header_runs(&table.columns) {
            let (c0, c1) = (col(first), col(end));
            match group {
                Some(g) if two => {
                    if c0 == c1 {
                        sheet.write_string_with_format(row, c0, g, &head)
                    } else {
                        sheet.merge_range(row, c0, row, c1, g, &head)
                    }
                    .map_err(xlsx_error)?;
                    for (i, c) in table.columns[first..=end].iter().enumerate() {
                        sheet
                            .write_string_with_format(row + 1, c0 + col(i), &c.label, &head)
                            .map_err(xlsx_error)?;
                    }
                }
                _ => {
                    for (i, c) in table.columns[first..=end].iter().enumerate() {
                        let at = c0 + col(i);
                        if two {
                            sheet.merge_range(row, at, row + 1, at, &c.label, &head)
                        } else {
                            sheet.write_string_with_format(row, at, &c.label, &head)
                        }
                        .map_err(xlsx_error)?;
                    }
                }
            }
        }
        row += if two { 2 } else { 1 };
        let rows = table.rows.iter().map(|r| (r, &body));
        for (cells, format) in rows.chain(table.total.iter().map(|r| (r, &total))) {
            for (i, cell) in cells.iter().enumerate() {
                let c = col(i);
                match cell {
                    Cell::Text(t) => sheet.write_string_with_format(row, c, t, format),
                    Cell::Count(n) => sheet.write_number_with_format(row, c, *n as f64, format),
                    Cell::Number(x) => sheet.write_number_with_format(row, c, *x, format),
                    Cell::Empty => sheet.write_blank(row, c, format),
                }
                .map_err(xlsx_error)?;
            }
            row += 1;
        }
        for (i, c) in table.columns.iter().enumerate() {
            let numeric = table
                .rows
                .first()
                .and_then(|r| r.get(i))
                .is_some_and(Cell::is_numeric);
            let width = if numeric || c.key == "no" { 11.0 } else { 36.0 };
            sheet.set_column_width(col(i), width).map_err(xlsx_error)?;
        }
    }
    book.save_to_buffer().map_err(xlsx_error)
}

fn col(i: usize) -> u16 {
    u16::try_from(i).unwrap_or(u16::MAX)
}

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// A printable HTML page: a heading, paragraphs, then each table under its title.
pub fn html(heading: &str, paragraphs: &[String], tables: &[Table]) -> String {
    let mut page = format!(
        "<!doctype html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n<title>{t}</title>\n\
         <style>\nbody{{font-family:\"Times New Roman\",serif;margin:1.5cm;font-size:13pt}}\n\
         h1{{font-size:15pt;text-align:center}}h2{{font-size:13pt}}\n\
         table{{border-collapse:collapse;width:100%;margin-bottom:1.2em}}\n\
         th,td{{border:1px solid #000;padding:2px 5px;vertical-align:top}}\n\
         td.n{{text-align:right}}tfoot td{{font-weight:bold}}\n\
         @media print{{section{{page-break-inside:avoid}}}}\n</style>\n</head>\n<body>\n<h1>{t}</h1>\n",
        t = escape(heading)
    );
    for p in paragraphs {
        page.push_str(&format!("<p>{}</p>\n", escape(p)));
    }
    for table in tables {
        page.push_str(&format!("<section>\n<h2>{}</h2>\n", escape(&table.title)));
        for n in &table.notes {
            page.push_str(&format!("<p><em>{}</em></p>\n", escape(n)));
        }
        page.push_str("<table>\n<thead>\n");
        let two = table.two_header_rows();
        let runs = header_runs(&table.columns);
        page.push_str("<tr>");
        let mut second = String::new();
        for (first, end, group) in &runs {
            match group {
                Some(g) if two => {
                    page.push_str(&format!(
                        "<th colspan=\"{}\">{}</th>",
                        end - first + 1,
                        escape(g)
                    ));
                    for c in &table.columns[*first..=*end] {
                        second.push_str(&format!("<th>{}</th>", escape(&c.label)));
                    }
                }
                _ => {
                    for c in &table.columns[*first..=*end] {
                        let span = if two { " rowspan=\"2\"" } else { "" };
                        page.push_str(&format!("<th{span}>{}</th>", escape(&c.label)));
                    }
                }
            }
        }
        page.push_str("</tr>\n");
        if two {
            page.push_str(&format!("<tr>{second}</tr>\n"));
        }
        page.push_str("</thead>\n<tbody>\n");
        let cells = |row: &[Cell]| {
            row.iter()
                .map(|c| {
                    let class = if c.is_numeric() { " class=\"n\"" } else { "" };
                    format!("<td{class}>{}</td>", escape(&c.plain()))
                })
                .collect::<String>()
        };
        for row in &table.rows {
            page.push_str(&format!("<tr>{}</tr>\n", cells(row)));
        }
        page.push_str("</tbody>\n");
        if let Some(total) = &table.total {
            page.push_str(&format!("<tfoot>\n<tr>{}</tr>\n</tfoot>\n", cells(total)));
        }
        page.push_str("</table>\n</section>\n");
    }
    page.push_str("</body>\n</html>\n");
    page
}

/// The forms a report can be had in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/json`.
    Json,
    /// `text/csv`.
    Csv,
    /// XLSX.
    Xlsx,
    /// `text/html`.
    Html,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Html => "html",
        }
    }

    fn media_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Csv => "text/csv",
            Self::Xlsx => XLSX,
            Self::Html => "text/html",
        }
    }
}

/// The form the caller asked for among `offered` (the first is the default): the `format`
/// query parameter if given (refused when not offered), else the first offered type that the
/// `Accept` header names.
pub fn negotiate(
    req: &HttpRequest,
    format: Option<&str>,
    offered: &[Format],
) -> Result<Format, ApiError> {
    if let Some(name) = format {
        return offered
            .iter()
            .copied()
            .find(|f| f.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = offered.iter().map(|f| f.name()).collect();
                ApiError::invalid("format", format!("must be one of {}", names.join(", ")))
            });
    }
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    Ok(offered
        .iter()
        .copied()
        .filter(|f| *f != Format::Json)
        .find(|f| accept.contains(f.media_type()))
        .unwrap_or(Format::Json))
}

/// One table as a CSV or XLSX download (`format` is one of the two), named `name`.
pub fn download_table(format: Format, name: &str, table: Table) -> Result<HttpResponse, ApiError> {
    let bytes = match format {
        Format::Xlsx => xlsx(&[table])?,
        _ => table.csv()?,
    };
    Ok(download(format, name, bytes))
}

/// A download of `bytes` in `format`, named `name` with the format's extension.
pub fn download(format: Format, name: &str, bytes: Vec<u8>) -> HttpResponse {
    let content_type = match format {
        Format::Csv => "text/csv; charset=utf-8",
        Format::Html => "text/html; charset=utf-8",
        other => other.media_type(),
    };
    let mut response = HttpResponse::Ok();
    response.content_type(content_type);
    if format != Format::Html {
        response.insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.{}\"", format.name()),
        ));
    }
    response.body(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
            sheet: "S".into(),
            title: "T <1>".into(),
            notes: vec!["n".into()],
            columns: vec![
                Column::new("name", "Tên"),
                Column::under("Nhận", "a", "A"),
                Column::under("Nhận", "b", "B"),
                Column::new("c", "C"),
            ],
            rows: vec![vec![
                Cell::text("x"),
                Cell::Count(1),
                Cell::Count(2),
                Cell::Number(0.5),
            ]],
            total: Some(vec![
                Cell::text("Tổng"),
                Cell::Count(1),
                Cell::Count(2),
                Cell::Empty,
            ]),
        }
    }

    #[test]
    fn grouped_columns_make_a_two_row_header_in_html_and_a_flat_one_in_csv() {
        let t = table();
        assert_eq!(
            header_runs(&t.columns),
            vec![(0, 0, None), (1, 2, Some("Nhận")), (3, 3, None)]
        );
        let page = html("H", &[], std::slice::from_ref(&t));
        assert!(page.contains(
            "<th rowspan=\"2\">Tên</th><th colspan=\"2\">Nhận</th><th rowspan=\"2\">C</th>"
        ));
        assert!(page.contains("<tr><th>A</th><th>B</th></tr>"));
        assert!(page.contains("<h2>T &lt;1&gt;</h2>"));
        assert!(page.contains("<tfoot>\n<tr><td>Tổng</td><td class=\"n\">1</td>"));
        let csv = String::from_utf8(t.csv().unwrap_or_default()).unwrap_or_default();
        assert_eq!(csv, "\u{feff}name,a,b,c\nx,1,2,0.5\nTổng,1,2,\n");
        let book = xlsx(&[t]).unwrap_or_default();
        assert_eq!(&book[..2], b"PK", "an XLSX workbook is a zip file");
    }
}
