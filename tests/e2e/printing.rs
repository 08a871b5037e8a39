//! Reports that print: the demo province's monthly notice printed to PDF by Chromium (its HTML)
//! and by LibreOffice (its XLSX), and read back with poppler's `pdfinfo` and `pdftotext`.
//!
//! They need those three programs, which CI installs (Debian's `chromium`,
//! `libreoffice-calc-nogui` and `poppler-utils`), so they are `#[ignore]`d in the everyday run:
//! `cargo test -p tthc-tests --test e2e -- --ignored printing`. The PDFs and a picture of each
//! page are left in `target/printing/` to be looked at.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use tthc_tests::{Status, TestApp};

/// Where the renders are kept: `target/printing/` of the workspace.
fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/printing");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs a program to completion and fails the test, with what it printed, if it fails.
fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} could not start ({e}); CI installs it"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A PDF's pages: each one's size in points and its text laid out as printed.
struct Pdf {
    pages: Vec<Page>,
}

struct Page {
    width: f64,
    height: f64,
    text: String,
}

impl Page {
    fn landscape(&self) -> bool {
        self.width > self.height
    }

    /// The printed line holding `needle`.
    fn line_with(&self, needle: &str) -> Option<&str> {
        self.text.lines().find(|l| l.contains(needle))
    }
}

impl Pdf {
    fn read(path: &Path) -> Self {
        let file = path.to_str().unwrap();
        let info = run("pdfinfo", &[file]);
        let count: usize = info
            .lines()
            .find_map(|l| l.strip_prefix("Pages:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let sizes = run("pdfinfo", &["-f", "1", "-l", &count.to_string(), file]);
        let pages = sizes
            .lines()
            .filter(|l| l.starts_with("Page") && l.contains(" size: "))
            .enumerate()
            .map(|(i, l)| {
                // "Page    1 size: 594.96 x 841.92 pts (A4)"
                let dims: Vec<f64> = l
                    .split(" size: ")
                    .nth(1)
                    .unwrap()
                    .split_whitespace()
                    .filter_map(|w| w.parse().ok())
                    .collect();
                let n = (i + 1).to_string();
                Page {
                    width: dims[0],
                    height: dims[1],
                    text: run("pdftotext", &["-layout", "-f", &n, "-l", &n, file, "-"]),
                }
            })
            .collect::<Vec<_>>();
        assert_eq!(pages.len(), count);
        Self { pages }
    }

    /// The index of the page that holds `needle` first.
    fn page_of(&self, needle: &str) -> Option<usize> {
        self.pages.iter().position(|p| p.text.contains(needle))
    }
}

/// Every page is A4 (595 × 842 points either way round).
fn assert_a4(pdf: &Pdf, what: &str) {
    for (i, p) in pdf.pages.iter().enumerate() {
        let (short, long) = (p.width.min(p.height), p.width.max(p.height));
        assert!(
            (short - 595.0).abs() < 2.0 && (long - 842.0).abs() < 2.0,
            "{what} page {} is {} x {}",
            i + 1,
            p.width,
            p.height
        );
    }
}

/// Each unit's row of appendix 1 or 2 is printed whole: on one line, its code, its score as
/// Vietnamese documents write it, and its rank last (the rightmost column, so nothing is cut),
/// on a landscape page that repeats the table's header.
fn assert_rows_whole(pdf: &Pdf, units: &[Value], what: &str) {
    for u in units {
        let code = u["unit"].as_str().unwrap();
        let page = pdf
            .page_of(code)
            .unwrap_or_else(|| panic!("{what}: {code} is not printed"));
        let page = &pdf.pages[page];
        let line = page.line_with(code).unwrap();
        let score = format!("{:.2}", u["score"].as_f64().unwrap()).replace('.', ",");
        assert!(
            line.contains(&score),
            "{what}: {code} without {score}: {line}"
        );
        assert_eq!(
            line.split_whitespace().last(),
            Some(u["rank"].to_string().as_str()),
            "{what}: {code}'s rank is not its line's last word: {line}"
        );
        assert!(page.landscape(), "{what}: the appendix prints landscape");
        assert!(
            page.text.contains("STT") && page.text.contains("Đơn vị"),
            "{what}: the header is repeated on the page of {code}"
        );
    }
}

/// The demo province's last closed month, its notice as JSON, HTML and XLSX, and the II.06a
/// by procedure as XLSX and CSV.
struct Documents {
    notice: Value,
    html: Vec<u8>,
    xlsx: Vec<u8>,
    ii06a_json: Value,
    ii06a_xlsx: Vec<u8>,
    ii06a_csv: String,
}

fn documents() -> Documents {
    let app = TestApp::spawn();
    let token = app.admin_token();
    tthc_api::demo::load(&app.db, 3000).unwrap();
    let period = tthc_api::demo::DemoYear::to_yesterday()
        .closed_months()
        .last()
        .copied()
        .unwrap();
    let notice = format!("/api/v1/reports/notice?unit=000.00.00.H12&period={period}");
    let get = |path: &str, accept: &str| {
        let (status, _, bytes) = app.download(path, &token, accept);
        assert_eq!(status, Status::OK, "{}", String::from_utf8_lossy(&bytes));
        bytes
    };
    let json = |path: &str| serde_json::from_slice(&get(path, "application/json")).unwrap();
    let ii06a = format!("/api/v1/reports/ii06a?unit=000.00.00.H12&period={period}&by=procedure");
    Documents {
        notice: json(&notice),
        html: get(&format!("{notice}&number=112/TB-VPUBND"), "text/html"),
        xlsx: get(&format!("{notice}&format=xlsx"), "*/*"),
        ii06a_json: json(&ii06a),
        ii06a_xlsx: get(&format!("{ii06a}&format=xlsx"), "*/*"),
        ii06a_csv: String::from_utf8(get(&format!("{ii06a}&format=csv"), "*/*")).unwrap(),
    }
}

/// Pictures of the first `pages` pages, for people to look at.
fn pictures(pdf: &Path, prefix: &str, pages: usize) {
    let out = out_dir().join(prefix);
    run(
        "pdftoppm",
        &[
            "-r",
            "60",
            "-png",
            "-f",
            "1",
            "-l",
            &pages.to_string(),
            pdf.to_str().unwrap(),
            out.to_str().unwrap(),
        ],
    );
}

#[test]
#[ignore = "needs chromium, libreoffice and poppler-utils; CI installs them"]
fn the_notice_prints_as_an_official_document_from_html_and_xlsx() {
    let docs = documents();
    let dir = out_dir();

    // The HTML page, printed by Chromium as a person would print it.
    let html = dir.join("notice.html");
    std::fs::write(&html, &docs.html).unwrap();
    let from_html = dir.join("notice-html.pdf");
    let _ = std::fs::remove_file(&from_html);
    let profile = tempfile_dir("chromium");
    run(
        "chromium",
        &[
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.display()),
            "--no-pdf-header-footer",
            &format!("--print-to-pdf={}", from_html.display()),
            &format!("file://{}", html.display()),
        ],
    );
    let pdf = Pdf::read(&from_html);
    pictures(&from_html, "notice-html", 3);
    assert_a4(&pdf, "HTML");
    // The letter on a portrait page, with its letterhead.
    let first = &pdf.pages[0];
    assert!(!first.landscape());
    for part in [
        "ỦY BAN NHÂN DÂN TỈNH BẮC NINH",
        "VĂN PHÒNG",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Số: 112/TB-VPUBND",
        "Bắc Ninh, ngày",
        "THÔNG BÁO",
    ] {
        assert!(in_order(&first.text, part), "{part} in {}", first.text);
    }
    // The province's score and rank from the portal, as Vietnamese documents write them.
    let official = &docs.notice["official"];
    let said = format!(
        "{} điểm, xếp hạng {:02}/{}",
        format!("{:.2}", official["score"].as_f64().unwrap()).replace('.', ","),
        official["rank"].as_u64().unwrap(),
        official["rankOf"]
    );
    assert!(first.text.contains(&said), "{said} in {}", first.text);
    assert_rows_whole(
        &pdf,
        docs.notice["departments"].as_array().unwrap(),
        "HTML appendix 1",
    );
    assert_rows_whole(
        &pdf,
        docs.notice["localities"].as_array().unwrap(),
        "HTML appendix 2",
    );
    // The appendices start on pages of their own.
    let a1 = pdf.page_of("Phụ lục 1.").unwrap();
    assert!(a1 > 0 && pdf.page_of("Phụ lục 2.").unwrap() > a1);

    // The workbook, converted by LibreOffice with the page setup it carries.
    let xlsx = dir.join("notice.xlsx");
    std::fs::write(&xlsx, &docs.xlsx).unwrap();
    let from_xlsx = libreoffice_pdf(&xlsx);
    let pdf = Pdf::read(&from_xlsx);
    pictures(&from_xlsx, "notice-xlsx", 3);
    assert_a4(&pdf, "XLSX");
    let first = &pdf.pages[0];
    assert!(!first.landscape(), "the letter prints portrait");
    assert!(first.text.contains("THÔNG BÁO") && first.text.contains(&said));
    let departments = docs.notice["departments"].as_array().unwrap();
    assert_rows_whole(&pdf, departments, "XLSX appendix 1");
    // Fitted to the page's width, appendix 1's twenty departments print on one page, not
    // on two pages side by side.
    let pages: std::collections::BTreeSet<usize> = departments
        .iter()
        .map(|u| pdf.page_of(u["unit"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(pages.len(), 1, "appendix 1 on pages {pages:?}");
    let localities = docs.notice["localities"].as_array().unwrap();
    assert_rows_whole(&pdf, localities, "XLSX appendix 2");
    let pages: std::collections::BTreeSet<usize> = localities
        .iter()
        .map(|u| pdf.page_of(u["unit"].as_str().unwrap()).unwrap())
        .collect();
    assert!(
        pages.len() > 1,
        "appendix 2 is long enough to need its header repeated"
    );
    // Numbered pages.
    assert!(
        pdf.pages[1]
            .text
            .contains(&format!("Trang 2/{}", pdf.pages.len())),
        "{}",
        pdf.pages[1].text
    );
}

#[test]
#[ignore = "needs libreoffice and poppler-utils; CI installs them"]
fn procedure_codes_stay_text_in_the_workbook_and_the_csv() {
    let docs = documents();
    let codes: Vec<&str> = docs.ii06a_json["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["key"].as_str().unwrap())
        .collect();
    // Codes whose digits a spreadsheet would otherwise read as a number.
    let numeric = codes.iter().filter(|c| c.parse::<f64>().is_ok()).count();
    assert!(
        numeric > 0,
        "the demo has codes such as 1.001020: {codes:?}"
    );

    // The CSV carries each code's exact characters.
    for code in &codes {
        assert!(
            docs.ii06a_csv.contains(&format!(",{code},")),
            "{code} in the CSV"
        );
    }
    // LibreOffice, reading the workbook, keeps each code as written text (1.001340, not the
    // number 1.00134).
    let dir = out_dir();
    let xlsx = dir.join("ii06a.xlsx");
    std::fs::write(&xlsx, &docs.ii06a_xlsx).unwrap();
    let _ = std::fs::remove_file(dir.join("ii06a.csv"));
    libreoffice(
        &xlsx,
        // Comma-separated, double-quoted, UTF-8 (76), from the first line.
        "csv:Text - txt - csv (StarCalc):44,34,76,1",
    );
    let read_back = std::fs::read_to_string(dir.join("ii06a.csv")).unwrap();
    let printed: Vec<&str> = read_back
        .lines()
        .filter_map(|l| l.split(',').nth(1))
        .collect();
    // LibreOffice quotes the text cells it writes, never the numbers: each code comes back
    // quoted, with its trailing zeros.
    for code in &codes {
        let quoted = format!("\"{code}\"");
        assert!(
            printed.contains(&quoted.as_str()),
            "{code} read back as {printed:?}"
        );
    }
    // And the form prints fitted to a landscape page's width.
    let pdf = Pdf::read(&libreoffice_pdf(&xlsx));
    assert_a4(&pdf, "II.06a");
    for (i, page) in pdf.pages.iter().enumerate() {
        assert!(page.landscape(), "II.06a page {}", i + 1);
        assert!(page.text.contains("STT"), "header on page {}", i + 1);
    }
}

/// Whether the words of `phrase` are in `text` in their order: a phrase the layout wrapped
/// across lines, beside the other column's text, still reads.
fn in_order(text: &str, phrase: &str) -> bool {
    let mut rest = text;
    phrase.split_whitespace().all(|word| match rest.find(word) {
        Some(at) => {
            rest = &rest[at + word.len()..];
            true
        }
        None => false,
    })
}

/// `file` converted to PDF by LibreOffice, beside it.
fn libreoffice_pdf(file: &Path) -> PathBuf {
    // Removed first: the PDF read is this run's, not a leftover of an earlier one.
    let pdf = file.with_extension("pdf");
    let _ = std::fs::remove_file(&pdf);
    libreoffice(file, "pdf");
    pdf
}

/// `file` converted by LibreOffice with the filter `to`, beside it, in a profile of its own.
fn libreoffice(file: &Path, to: &str) {
    let dir = file.parent().unwrap();
    let profile = tempfile_dir("libreoffice");
    run(
        "soffice",
        &[
            &format!("-env:UserInstallation=file://{}", profile.display()),
            "--headless",
            "--convert-to",
            to,
            "--outdir",
            dir.to_str().unwrap(),
            file.to_str().unwrap(),
        ],
    );
}

/// A new empty directory for a program's profile.
fn tempfile_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tthc-{what}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
