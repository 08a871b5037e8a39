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
    /// A whole number that may be negative (days left, say).
    Integer(i64),
    /// A record's number (a task's id): a number, never grouped by thousands.
    Id(i64),
    /// A score or ratio, shown with two decimals.
    Number(f64),
    /// Nothing.
    Empty,
}

impl Cell {
    /// Text of anything printable.
    pub fn text(value: impl ToString) -> Self {
        Self::Text(value.to_string())
    }

    /// The value for machines (CSV): numbers with a decimal point and no grouping.
    fn plain(&self) -> String {
        match self {
            Self::Text(t) => crate::http::csv_text(t).into_owned(),
            Self::Count(n) => n.to_string(),
            Self::Integer(n) | Self::Id(n) => n.to_string(),
            Self::Number(x) => x.to_string(),
            Self::Empty => String::new(),
        }
    }

    /// The value for people (the printable page), as Vietnamese documents write numbers:
    /// `1.234` and `78,49`.
    fn shown(&self) -> String {
        match self {
            Self::Text(t) => t.clone(),
            Self::Count(n) => vn_number(&n.to_string(), ""),
            Self::Integer(n) => vn_number(&n.to_string(), ""),
            Self::Id(n) => n.to_string(),
            Self::Number(x) => {
                let fixed = format!("{x:.2}");
                let (whole, decimals) = fixed.split_once('.').unwrap_or((&fixed, ""));
                vn_number(whole, decimals)
            }
            Self::Empty => String::new(),
        }
    }

    fn is_numeric(&self) -> bool {
        matches!(
            self,
            Self::Count(_) | Self::Integer(_) | Self::Id(_) | Self::Number(_)
        )
    }
}

/// A score as Vietnamese documents write it, with two decimals: `78,49`.
pub fn vn_decimal(x: f64) -> String {
    Cell::Number(x).shown()
}

/// `whole` (digits, perhaps signed) grouped by thousands with `.`, then `,` and `decimals`.
fn vn_number(whole: &str, decimals: &str) -> String {
    let (sign, digits) = whole.strip_prefix('-').map_or(("", whole), |d| ("-", d));
    let mut out = String::from(sign);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(ch);
    }
    if !decimals.is_empty() {
        out.push(',');
        out.push_str(decimals);
    }
    out
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
    /// Each column's width in a spreadsheet.
    fn widths(&self) -> Vec<f64> {
        self.columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let numeric = self
                    .rows
                    .iter()
                    .chain(self.total.as_ref())
                    .filter_map(|r| r.get(i))
                    .find(|cell| **cell != Cell::Empty)
                    .is_some_and(Cell::is_numeric);
                column_width(c, numeric)
            })
            .collect()
    }

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

/// The head of an official document, laid out as Decree 30/2020/NĐ-CP sets it: the issuing
/// authority and office on the left and the national name and motto on the right, the number
/// and the place and date under them, then the kind of document, centred.
#[derive(Debug, Clone)]
pub struct Letterhead {
    /// The authority the office belongs to, in capitals (`ỦY BAN NHÂN DÂN TỈNH BẮC NINH`).
    pub authority: String,
    /// The issuing office, in capitals (`VĂN PHÒNG`).
    pub office: String,
    /// `Số: 112/TB-VPUBND` (the number left blank in a draft).
    pub number: String,
    /// `Bắc Ninh, ngày 03 tháng 12 năm 2026`.
    pub place_and_date: String,
    /// The kind of document (`THÔNG BÁO`).
    pub kind: String,
}

/// The national name and motto every official document carries.
const NATION: &str = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM";
const MOTTO: &str = "Độc lập - Tự do - Hạnh phúc";

/// A document that prints: its letterhead (if official), its subject, its paragraphs, then its
/// tables (the appendices).
#[derive(Debug, Clone)]
pub struct Document {
    /// The letterhead, for an official document.
    pub letterhead: Option<Letterhead>,
    /// The subject (under the kind, or the page's heading).
    pub subject: String,
    /// The body's paragraphs.
    pub paragraphs: Vec<String>,
    /// The tables.
    pub tables: Vec<Table>,
}

fn xlsx_error(e: XlsxError) -> ApiError {
    ApiError::Internal(format!("writing XLSX: {e}"))
}

/// Number formats carry the Vietnamese locale (`[$-42A]`), so that a spreadsheet shows
/// `78,49` and `1.234` whatever the reader's own settings (LibreOffice honours it; Excel
/// takes the separators from Windows, which in Vietnam are the same).
const COUNT_FORMAT: &str = "[$-42A]#,##0";
const NUMBER_FORMAT: &str = "[$-42A]#,##0.00";

/// A4 in the paper sizes of the XLSX format.
const A4: u8 = 9;

/// Printable width of an A4 page in portrait with the margins below, in column-width units
/// (one unit is about 1.9 mm at 100%).
const PORTRAIT_WIDTH: f64 = 88.0;

/// Margins in inches: left 20 mm (binding), right 15 mm, top and bottom 20 mm.
const MARGINS: (f64, f64, f64, f64) = (0.79, 0.59, 0.79, 0.79);

/// Column widths in spreadsheet units: the line number, codes, numbers, and text (which wraps).
fn column_width(column: &Column, numeric: bool) -> f64 {
    match column.key.as_str() {
        "no" => 6.0,
        _ if numeric => 11.0,
        "code" | "unit" => 16.0,
        _ => 30.0,
    }
}

struct Formats {
    title: CellFormat,
    note: CellFormat,
    head: CellFormat,
    text: CellFormat,
    count: CellFormat,
    number: CellFormat,
    id: CellFormat,
}

impl Formats {
    fn new() -> Self {
        let body = CellFormat::new()
            .set_border(FormatBorder::Thin)
            .set_align(FormatAlign::Top);
        Self {
            title: CellFormat::new()
                .set_bold()
                .set_font_size(13)
                .set_text_wrap()
                .set_align(FormatAlign::Center),
            note: CellFormat::new().set_italic(),
            head: CellFormat::new()
                .set_bold()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_text_wrap()
                .set_border(FormatBorder::Thin),
            text: body.clone().set_text_wrap(),
            count: body.clone().set_num_format(COUNT_FORMAT),
            id: body.clone().set_num_format("0"),
            number: body.set_num_format(NUMBER_FORMAT),
        }
    }
}

/// The tables as an XLSX workbook, one sheet each (see [`write_table`]).
pub fn xlsx(tables: &[Table]) -> Result<Vec<u8>, ApiError> {
    let mut book = Workbook::new();
    let formats = Formats::new();
    for table in tables {
        write_table(book.add_worksheet(), table, &formats)?;
    }
    book.save_to_buffer().map_err(xlsx_error)
}

/// A document as an XLSX workbook: a first sheet with the letterhead, subject and paragraphs
/// (the letter itself), then one sheet per table.
pub fn xlsx_document(document: &Document) -> Result<Vec<u8>, ApiError> {
    let mut book = Workbook::new();
    let formats = Formats::new();
    write_letter(book.add_worksheet(), document, &formats)?;
    for table in &document.tables {
        write_table(book.add_worksheet(), table, &formats)?;
    }
    book.save_to_buffer().map_err(xlsx_error)
}

/// The letter's sheet, portrait, eight columns wide: the letterhead in two halves, the kind and
/// subject centred, then each paragraph across the page. Spreadsheets do not fit a merged
/// cell's height to its text, so each paragraph's row is given the height of its lines.
fn write_letter(
    sheet: &mut rust_xlsxwriter::Worksheet,
    document: &Document,
    formats: &Formats,
) -> Result<(), ApiError> {
    const COLUMNS: u16 = 8;
    const WIDTH: f64 = 11.0;
    sheet.set_name("Thông báo").map_err(xlsx_error)?;
    sheet.set_paper_size(A4);
    sheet.set_print_fit_to_pages(1, 0);
    let (_, right, top, bottom) = MARGINS;
    // The letter's left margin is the decree's 30 mm (the binding side).
    sheet.set_margins(1.18, right, top, bottom, 0.3, 0.3);
    for c in 0..COLUMNS {
        sheet.set_column_width(c, WIDTH).map_err(xlsx_error)?;
    }
    let width = WIDTH * f64::from(COLUMNS);
    let centred = CellFormat::new()
        .set_align(FormatAlign::Center)
        .set_text_wrap();
    let bold = centred.clone().set_bold();
    let italic = centred.clone().set_italic();
    let paragraph = CellFormat::new()
        .set_text_wrap()
        .set_align(FormatAlign::Justify)
        .set_align(FormatAlign::Top);
    let mut row: u32 = 0;
    let half = |sheet: &mut rust_xlsxwriter::Worksheet,
                row: u32,
                left: &str,
                right: &str,
                lf: &CellFormat,
                rf: &CellFormat|
     -> Result<(), ApiError> {
        sheet
            .merge_range(row, 0, row, 2, left, lf)
            .map_err(xlsx_error)?;
        sheet
            .merge_range(row, 3, row, COLUMNS - 1, right, rf)
            .map_err(xlsx_error)?;
        Ok(())
    };
    if let Some(head) = &document.letterhead {
        // The left half is three columns wide; a long authority wraps there.
        let left_width = WIDTH * 3.0;
        for (r, text) in [(row, &head.authority), (row + 1, &head.office)] {
            sheet
                .set_row_height(r, line_height(text_lines(text, left_width, true)))
                .map_err(xlsx_error)?;
        }
        half(sheet, row, &head.authority, NATION, &centred, &bold)?;
        half(sheet, row + 1, &head.office, MOTTO, &bold, &bold)?;
        half(
            sheet,
            row + 3,
            &head.number,
            &head.place_and_date,
            &centred,
            &italic,
        )?;
        row += 5;
        sheet
            .merge_range(row, 0, row, COLUMNS - 1, &head.kind, &formats.title)
            .map_err(xlsx_error)?;
        row += 1;
    }
    sheet
        .merge_range(row, 0, row, COLUMNS - 1, &document.subject, &bold)
        .map_err(xlsx_error)?;
    sheet
        .set_row_height(row, line_height(text_lines(&document.subject, width, true)))
        .map_err(xlsx_error)?;
    row += 2;
    for p in &document.paragraphs {
        sheet
            .merge_range(row, 0, row, COLUMNS - 1, p, &paragraph)
            .map_err(xlsx_error)?;
        sheet
            .set_row_height(row, line_height(text_lines(p, width, false)))
            .map_err(xlsx_error)?;
        row += 1;
    }
    Ok(())
}

/// One table on its own sheet: the title and notes merged across the table, the header (two
/// rows with merged group cells when columns are grouped), the rows, the totals row in bold.
/// Set up to print on A4: landscape when the columns are wider than a portrait page, scaled to
/// the page's width, the header rows repeated on every page, numbered pages.
fn write_table(
    sheet: &mut rust_xlsxwriter::Worksheet,
    table: &Table,
    formats: &Formats,
) -> Result<(), ApiError> {
    let Formats {
        title,
        note,
        head,
        text,
        count,
        number,
        id,
    } = formats;
    sheet.set_name(&table.sheet).map_err(xlsx_error)?;
    let widths = table.widths();
    let last = u16::try_from(table.columns.len().saturating_sub(1)).unwrap_or(u16::MAX);
    let mut row: u32 = 0;
    for (line, format) in
        std::iter::once((&table.title, title)).chain(table.notes.iter().map(|n| (n, note)))
    {
        if last == 0 {
            sheet.write_string_with_format(row, 0, line, format)
        } else {
            sheet.merge_range(row, 0, row, last, line, format)
        }
        .map_err(xlsx_error)?;
        row += 1;
    }
    // A long title wraps in its merged cell, which does not grow by itself.
    let title_lines = text_lines(&table.title, widths.iter().sum(), true);
    sheet
        .set_row_height(0, title_lines as f64 * 18.0 + 2.0)
        .map_err(xlsx_error)?;
    row += 1;
    let header = row;
    let two = table.two_header_rows();
    for (first, end, group) in header_runs(&table.columns) {
        let (c0, c1) = (col(first), col(end));
        match group {
            Some(g) if two => {
                if c0 == c1 {
                    sheet.write_string_with_format(row, c0, g, head)
                } else {
                    sheet.merge_range(row, c0, row, c1, g, head)
                }
                .map_err(xlsx_error)?;
                for (i, c) in table.columns[first..=end].iter().enumerate() {
                    sheet
                        .write_string_with_format(row + 1, c0 + col(i), &c.label, head)
                        .map_err(xlsx_error)?;
                }
            }
            _ => {
                for (i, c) in table.columns[first..=end].iter().enumerate() {
                    let at = c0 + col(i);
                    if two {
                        sheet.merge_range(row, at, row + 1, at, &c.label, head)
                    } else {
                        sheet.write_string_with_format(row, at, &c.label, head)
                    }
                    .map_err(xlsx_error)?;
                }
            }
        }
    }
    // Spreadsheets do not grow a row to its wrapped text when cells are merged, nor always
    // otherwise: every row is given the height of its tallest cell.
    let group_lines = header_runs(&table.columns)
        .into_iter()
        .filter_map(|(first, end, group)| {
            let width = widths[first..=end].iter().sum();
            group.filter(|_| two).map(|g| text_lines(g, width, true))
        })
        .max()
        .unwrap_or(0);
    let label_lines = |grouped: bool| {
        table
            .columns
            .iter()
            .zip(&widths)
            .filter(|(c, _)| c.group.is_some() == grouped)
            .map(|(c, w)| text_lines(&c.label, *w, true))
            .max()
            .unwrap_or(1)
    };
    if two {
        let second = label_lines(true).max(label_lines(false).saturating_sub(group_lines));
        sheet
            .set_row_height(row, line_height(group_lines))
            .map_err(xlsx_error)?;
        sheet
            .set_row_height(row + 1, line_height(second))
            .map_err(xlsx_error)?;
    } else {
        let lines = label_lines(false).max(label_lines(true));
        sheet
            .set_row_height(row, line_height(lines))
            .map_err(xlsx_error)?;
    }
    row += if two { 2 } else { 1 };
    let header_last = row - 1;
    let bold = |f: &CellFormat| f.clone().set_bold();
    let (total_text, total_count, total_number) = (bold(text), bold(count), bold(number));
    let rows = table.rows.iter().map(|r| (r, (text, count, number)));
    let totals = table
        .total
        .iter()
        .map(|r| (r, (&total_text, &total_count, &total_number)));
    for (cells, (text, count, number)) in rows.chain(totals) {
        let lines = cells
            .iter()
            .zip(&widths)
            .map(|(cell, w)| match cell {
                Cell::Text(t) => text_lines(t, *w, false),
                _ => 1,
            })
            .max()
            .unwrap_or(1);
        sheet
            .set_row_height(row, line_height(lines))
            .map_err(xlsx_error)?;
        for (i, cell) in cells.iter().enumerate() {
            let c = col(i);
            match cell {
                // Codes such as 1.001020 stay text: they are written as strings, never parsed.
                Cell::Text(t) => sheet.write_string_with_format(row, c, cell_text(t), text),
                Cell::Count(n) => sheet.write_number_with_format(row, c, *n as f64, count),
                Cell::Integer(n) => sheet.write_number_with_format(row, c, *n as f64, count),
                Cell::Id(n) => sheet.write_number_with_format(row, c, *n as f64, id),
                Cell::Number(x) => sheet.write_number_with_format(row, c, *x, number),
                Cell::Empty => sheet.write_blank(row, c, text),
            }
            .map_err(xlsx_error)?;
        }
        row += 1;
    }
    for (i, w) in widths.iter().enumerate() {
        sheet.set_column_width(col(i), *w).map_err(xlsx_error)?;
    }
    sheet.set_paper_size(A4);
    if widths.iter().sum::<f64>() > PORTRAIT_WIDTH {
        sheet.set_landscape();
    }
    sheet.set_print_fit_to_pages(1, 0);
    sheet
        .set_repeat_rows(header, header_last)
        .map_err(xlsx_error)?;
    let (left, right, top, bottom) = MARGINS;
    sheet.set_margins(left, right, top, bottom, 0.3, 0.3);
    sheet.set_footer("&CTrang &P/&N");
    Ok(())
}

/// How many lines `text` takes, wrapped at spaces, in a column `width` units wide (a unit is
/// a little less than one character of the default font, a little more in bold).
fn text_lines(text: &str, width: f64, bold: bool) -> usize {
    let per_line = ((width - 1.0) * if bold { 1.0 } else { 1.15 }).max(1.0) as usize;
    let mut lines = 1;
    let mut used = 0;
    for word in text.split_whitespace() {
        let len = word.chars().count();
        if used == 0 {
            used = len;
        } else if used + 1 + len <= per_line {
            used += 1 + len;
        } else {
            lines += 1;
            used = len;
        }
        while used > per_line {
            lines += 1;
            used -= per_line;
        }
    }
    lines
}

/// The height in points of a row of `lines` lines of the default 11-point font.
fn line_height(lines: usize) -> f64 {
    lines.max(1) as f64 * 15.0 + 2.0
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

/// The page's style: on screen, tables scroll sideways on a narrow window; in print, A4 with
/// the margins of an official document, and wide tables on landscape pages of their own
/// (named pages), their header repeated on every page.
const STYLE: &str = "\
body{font-family:\"Times New Roman\",Times,serif;font-size:13pt;line-height:1.35;margin:1.5rem auto;max-width:60rem;padding:0 1rem;color:#000;background:#fff}
h1{font-size:14pt;text-align:center;margin:1.2em 0 .2em}
.subject{text-align:center;font-weight:bold;margin:0 3em 1em}
h2{font-size:13pt;text-align:center;margin:.4em 0}
p{text-align:justify;text-indent:1.27cm;margin:.3em 0}
p.note{text-indent:0;font-style:italic;text-align:center}
.letterhead{width:100%;border-collapse:collapse;margin:0}
.letterhead td{border:0;padding:0 .3em;text-align:center;vertical-align:top;width:50%;font-size:12pt}
.letterhead td:first-child{width:42%}
.letterhead td.nation{width:58%;white-space:nowrap}
.letterhead .rule{display:block;width:35%;margin:.15em auto .5em;border-top:1px solid #000}
.letterhead .office,.letterhead .nation b{font-weight:bold}
.letterhead .date{font-style:italic}
.scroll{overflow-x:auto}
table.data{border-collapse:collapse;width:100%;margin-bottom:1.2em;font-size:11pt}
table.data th,table.data td{border:1px solid #000;padding:2px 4px;vertical-align:top;overflow-wrap:anywhere}
table.data th{font-weight:bold;text-align:center;vertical-align:middle}
table.data td.n{text-align:right;white-space:nowrap}
table.data .c{white-space:nowrap}
table.data tfoot td{font-weight:bold}
@page{size:A4 portrait;margin:20mm 15mm 20mm 30mm}
@page wide{size:A4 landscape;margin:20mm 15mm 15mm 20mm}
@media print{
body{margin:0;max-width:none;padding:0}
.scroll{overflow:visible}
section.table{break-before:page}
section.wide{page:wide}
table.data{font-size:10pt}
table.data thead{display:table-header-group}
table.data tr{break-inside:avoid}
h2{break-after:avoid}
}
";

/// More columns than this and a table prints on a landscape page.
const PORTRAIT_COLUMNS: usize = 7;

/// A document as a printable HTML page: the letterhead (for an official document), the kind and
/// subject, the paragraphs, then each table in a section of its own.
pub fn html(document: &Document) -> String {
    let mut page = format!(
        "<!doctype html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{t}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        t = escape(&document.subject)
    );
    match &document.letterhead {
        Some(head) => {
            page.push_str(&format!(
                "<header>\n<table class=\"letterhead\" role=\"presentation\">\n\
                 <tr><td>{authority}<br><span class=\"office\">{office}</span><span class=\"rule\"></span></td>\
                 <td class=\"nation\"><b>{NATION}</b><br><b>{MOTTO}</b><span class=\"rule\"></span></td></tr>\n\
                 <tr><td>{number}</td><td class=\"date\">{date}</td></tr>\n</table>\n\
                 <h1>{kind}</h1>\n<div class=\"subject\">{subject}</div>\n</header>\n",
                authority = escape(&head.authority),
                office = escape(&head.office),
                number = escape(&head.number),
                date = escape(&head.place_and_date),
                kind = escape(&head.kind),
                subject = escape(&document.subject),
            ));
        }
        None => page.push_str(&format!("<h1>{}</h1>\n", escape(&document.subject))),
    }
    page.push_str("<main>\n");
    for p in &document.paragraphs {
        page.push_str(&format!("<p>{}</p>\n", escape(p)));
    }
    for table in &document.tables {
        page.push_str(&html_table(table));
    }
    page.push_str("</main>\n</body>\n</html>\n");
    page
}

/// One table in its section: title, notes, the header (two rows when columns are grouped),
/// the rows, the totals row.
fn html_table(table: &Table) -> String {
    let wide = if table.columns.len() > PORTRAIT_COLUMNS {
        " wide"
    } else {
        ""
    };
    let mut out = format!(
        "<section class=\"table{wide}\">\n<h2>{}</h2>\n",
        escape(&table.title)
    );
    for n in &table.notes {
        out.push_str(&format!("<p class=\"note\">{}</p>\n", escape(n)));
    }
    out.push_str("<div class=\"scroll\">\n<table class=\"data\">\n<thead>\n");
    let two = table.two_header_rows();
    let runs = header_runs(&table.columns);
    out.push_str("<tr>");
    let mut second = String::new();
    for (first, end, group) in &runs {
        match group {
            Some(g) if two => {
                out.push_str(&format!(
                    "<th colspan=\"{}\" scope=\"colgroup\">{}</th>",
                    end - first + 1,
                    escape(g)
                ));
                for c in &table.columns[*first..=*end] {
                    second.push_str(&format!("<th scope=\"col\">{}</th>", escape(&c.label)));
                }
            }
            _ => {
                for c in &table.columns[*first..=*end] {
                    let span = if two { " rowspan=\"2\"" } else { "" };
                    let class = if c.key == "no" { " class=\"c\"" } else { "" };
                    out.push_str(&format!(
                        "<th{span}{class} scope=\"col\">{}</th>",
                        escape(&c.label)
                    ));
                }
            }
        }
    }
    out.push_str("</tr>\n");
    if two {
        out.push_str(&format!("<tr>{second}</tr>\n"));
    }
    out.push_str("</thead>\n<tbody>\n");
    // Numbers to the right; line numbers and codes never broken across lines.
    let cells = |row: &[Cell]| {
        row.iter()
            .zip(&table.columns)
            .map(|(c, column)| {
                let class = if c.is_numeric() {
                    " class=\"n\""
                } else if column.key == "code" {
                    " class=\"c\""
                } else {
                    ""
                };
                format!("<td{class}>{}</td>", escape(&c.shown()))
            })
            .collect::<String>()
    };
    for row in &table.rows {
        out.push_str(&format!("<tr>{}</tr>\n", cells(row)));
    }
    out.push_str("</tbody>\n");
    if let Some(total) = &table.total {
        out.push_str(&format!("<tfoot>\n<tr>{}</tr>\n</tfoot>\n", cells(total)));
    }
    out.push_str("</table>\n</div>\n</section>\n");
    out
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

/// The longest text a spreadsheet cell holds, in UTF-16 units (Excel's limit, which
/// rust_xlsxwriter enforces by refusing the cell).
const CELL_TEXT_MAX: usize = 32_767;

/// `text`, cut to what a cell holds, with an ellipsis where it was cut: a stored text longer
/// than a cell (a record written before its field had a bound) is shown cut, rather than the
/// whole spreadsheet refused.
fn cell_text(text: &str) -> std::borrow::Cow<'_, str> {
    // Each UTF-16 unit is at least one UTF-8 byte: most texts need no count.
    if text.len() <= CELL_TEXT_MAX || text.encode_utf16().count() <= CELL_TEXT_MAX {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut units = 0;
    let mut end = 0;
    for (i, c) in text.char_indices() {
        // One unit is kept for the ellipsis.
        if units + c.len_utf16() > CELL_TEXT_MAX - 1 {
            break;
        }
        units += c.len_utf16();
        end = i + c.len_utf8();
    }
    std::borrow::Cow::Owned(format!("{}…", &text[..end]))
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
        let page = html(&Document {
            letterhead: None,
            subject: "H".into(),
            paragraphs: Vec::new(),
            tables: vec![t.clone()],
        });
        assert!(page.contains(
            "<th rowspan=\"2\" scope=\"col\">Tên</th><th colspan=\"2\" scope=\"colgroup\">Nhận</th><th rowspan=\"2\" scope=\"col\">C</th>"
        ));
        assert!(page.contains("<tr><th scope=\"col\">A</th><th scope=\"col\">B</th></tr>"));
        assert!(page.contains("<h2>T &lt;1&gt;</h2>"));
        assert!(page.contains("<tfoot>\n<tr><td>Tổng</td><td class=\"n\">1</td>"));
        let csv = String::from_utf8(t.csv().unwrap_or_default()).unwrap_or_default();
        assert_eq!(csv, "\u{feff}name,a,b,c\nx,1,2,0.5\nTổng,1,2,\n");
        let book = xlsx(&[t]).unwrap_or_default();
        assert_eq!(&book[..2], b"PK", "an XLSX workbook is a zip file");
    }

    #[test]
    fn the_page_writes_numbers_as_vietnamese_documents_do() {
        let shown = |c: Cell| c.shown();
        assert_eq!(shown(Cell::Number(78.4949)), "78,49");
        assert_eq!(shown(Cell::Number(0.5)), "0,50");
        assert_eq!(shown(Cell::Number(12345.678)), "12.345,68");
        assert_eq!(shown(Cell::Count(1234567)), "1.234.567");
        assert_eq!(shown(Cell::Count(999)), "999");
        assert_eq!(shown(Cell::Integer(-1234)), "-1.234");
        assert_eq!(shown(Cell::text("1.001020")), "1.001020");
        // Machines get the plain forms.
        assert_eq!(Cell::Number(78.49).plain(), "78.49");
        assert_eq!(Cell::Count(1234).plain(), "1234");
    }

    #[test]
    fn an_official_document_has_its_letterhead_and_wide_tables_print_landscape() {
        let mut wide = table();
        wide.columns = (0..9).map(|i| Column::new(&format!("c{i}"), "X")).collect();
        let page = html(&Document {
            letterhead: Some(Letterhead {
                authority: "ỦY BAN NHÂN DÂN TỈNH BẮC NINH".into(),
                office: "VĂN PHÒNG".into(),
                number: "Số: 112/TB-VPUBND".into(),
                place_and_date: "Bắc Ninh, ngày 03 tháng 12 năm 2026".into(),
                kind: "THÔNG BÁO".into(),
            }),
            subject: "Về chỉ số".into(),
            paragraphs: vec!["Căn cứ".into()],
            tables: vec![table(), wide],
        });
        for part in [
            "ỦY BAN NHÂN DÂN TỈNH BẮC NINH<br><span class=\"office\">VĂN PHÒNG</span>",
            "<b>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</b><br><b>Độc lập - Tự do - Hạnh phúc</b>",
            "<td>Số: 112/TB-VPUBND</td><td class=\"date\">Bắc Ninh, ngày 03 tháng 12 năm 2026</td>",
            "<h1>THÔNG BÁO</h1>\n<div class=\"subject\">Về chỉ số</div>",
            "<p>Căn cứ</p>",
            "@page wide{size:A4 landscape",
        ] {
            assert!(page.contains(part), "{part} in {page}");
        }
        assert_eq!(page.matches("<section class=\"table\">").count(), 1);
        assert_eq!(page.matches("<section class=\"table wide\">").count(), 1);
    }

    #[test]
    fn texts_longer_than_a_cell_are_cut_to_it() {
        assert_eq!(super::cell_text("Đăng ký khai sinh"), "Đăng ký khai sinh");
        let long = "Đ".repeat(40_000);
        let cut = super::cell_text(&long);
        assert_eq!(cut.encode_utf16().count(), super::CELL_TEXT_MAX);
        assert!(cut.ends_with('…'));
        // Exactly a cell's worth, in characters of two bytes: kept whole.
        let full = "Đ".repeat(super::CELL_TEXT_MAX);
        assert!(super::cell_text(&full) == full, "a full cell is cut");
    }
}
