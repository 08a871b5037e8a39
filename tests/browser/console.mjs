// The office console in a real browser (Debian's chromium, driven by playwright-core), against
// the real service. Run by `tests/e2e/console.rs`, which starts the service over the demo
// province and passes what the API says the page must show:
//
//   node console.mjs BASE_URL OUT_DIR EXPECTED_JSON
//
// EXPECTED_JSON: {"latest": {"period", "score", "groups", "units", "departments", "best", "trend"},
//                 "earlier": {"label", "score"}, "user": {"username", "password", "name"},
//                 "signedIn": {"lossRows", "onTimeMisses", "notice", "gainRows", "lateRows", "dueRows",
//                              "overduePoints", "liveScore"}}.
// Screenshots at 390 px and 1280 px wide (the window, and the whole page) are written to OUT_DIR. Exits 1 with the reasons when
// a check fails.
import { readFile } from "node:fs/promises";
import { chromium } from "playwright-core";

const [base, out, expectedJson] = process.argv.slice(2);
const expected = JSON.parse(expectedJson);
// The session cookie's name (`api/src/auth/principal.rs`, SESSION_COOKIE).
const SESSION_COOKIE = "__Host-tthc_session";
const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
};

/** A number as the page writes it: 78,49. */
const vn = (x) => x.toLocaleString("vi-VN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** WCAG 2 contrast ratio of two CSS colours "rgb(r, g, b)". */
function contrast(fg, bg) {
  const lum = (css) => {
    const [r, g, b] = css.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number).map((c) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  for (const width of [390, 1280]) {
    const page = await browser.newPage({ viewport: { width, height: 900 }, locale: "vi-VN" });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    const response = await page.goto(base + "/");
    check(response.ok(), `${width}px: / answered ${response.status()}`);
    await page.waitForSelector("#units-table tbody tr", { timeout: 15000 });

    // The latest published month, as the API has it.
    const latest = expected.latest;
    check((await page.inputValue("#period")) === latest.period, `${width}px: the latest month is chosen`);
    const score = (await page.textContent("#score-value")).trim();
    check(score === vn(latest.score), `${width}px: score ${score}, expected ${vn(latest.score)}`);
    const groups = await page.locator("#groups li").count();
    check(groups === latest.groups, `${width}px: ${groups} groups, expected ${latest.groups}`);
    const rows = await page.locator("#units-table tbody tr").count();
    check(rows === latest.units, `${width}px: ${rows} units ranked, expected ${latest.units}`);
    const first = (await page.textContent("#units-table tbody tr:first-child td:nth-child(2)")).trim();
    check(first === latest.best, `${width}px: first ranked ${first}, expected ${latest.best}`);
    const trend = await page.locator("#trend-chart circle").count();
    check(trend === latest.trend, `${width}px: ${trend} months in the trend, expected ${latest.trend}`);

    // Departments only.
    await page.selectOption("#level", "department");
    const departments = await page.locator("#units-table tbody tr").count();
    check(departments === latest.departments, `${width}px: ${departments} departments, expected ${latest.departments}`);
    await page.selectOption("#level", "");

    // Nothing wider than the window.
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    check(scrollWidth <= width, `${width}px: the page is ${scrollWidth}px wide`);

    // Readable: text against its background at WCAG AA (4.5:1).
    for (const selector of ["body", "#score-value", ".top a", "#units-table td", ".lead"]) {
      const [fg, bg] = await page.evaluate((s) => {
        const node = document.querySelector(s);
        let back = node;
        let colour = "rgba(0, 0, 0, 0)";
        while (back && /rgba\(0, 0, 0, 0\)|transparent/.test(colour)) {
          colour = getComputedStyle(back).backgroundColor;
          back = back.parentElement;
        }
        return [getComputedStyle(node).color, colour];
      }, selector);
      const ratio = contrast(fg, bg);
      check(ratio >= 4.5, `${width}px: ${selector} contrast ${ratio.toFixed(2)} (${fg} on ${bg})`);
    }

    await page.screenshot({ path: `${out}/console-${width}.png` });
    await page.screenshot({ path: `${out}/console-${width}-full.png`, fullPage: true });

    // By keyboard: the first Tab reaches the skip link, the month is chosen from the keyboard.
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => document.activeElement.className);
    check(focused === "skip", `${width}px: first Tab reaches ${focused}, expected the skip link`);
    await page.focus("#period");
    await page.keyboard.press("ArrowDown");
    await page.waitForFunction(
      (period) => document.getElementById("status").textContent.includes(period),
      expected.earlier.label,
      { timeout: 15000 },
    );
    const earlier = (await page.textContent("#score-value")).trim();
    check(earlier === vn(expected.earlier.score), `${width}px: the month before scores ${earlier}, expected ${vn(expected.earlier.score)}`);

    check(errors.length === 0, `${width}px: errors in the page: ${errors.join("; ")}`);
    await page.close();
  }
  // Signed in: a person of the office signs in, drills from the points lost to a dossier's
  // timeline, and downloads the notice, with the session cookie alone.
  for (const width of [390, 1280]) {
    const context = await browser.newContext({ viewport: { width, height: 900 }, locale: "vi-VN", acceptDownloads: true });
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    // The wrong password's 401 is expected; nothing else may fail.
    page.on("console", (m) => m.type() === "error" && !m.text().includes("401") && errors.push(m.text()));
    await page.goto(base + "/");
    await page.waitForSelector("#units-table tbody tr", { timeout: 15000 });
    check(await page.isVisible("#sign-in-form"), `${width}px: the sign-in form shows`);

    // A wrong password is said, and nothing opens.
    await page.fill("#username", expected.user.username);
    await page.fill("#password", "không phải mật khẩu");
    await page.click("#sign-in-form button[type=submit]");
    await page.waitForFunction(() => document.getElementById("sign-in-status").textContent.length > 0);
    check(!(await page.isVisible("#losses")), `${width}px: nothing opens on a wrong password`);

    // By keyboard: the password field's Enter submits the form.
    await page.fill("#username", expected.user.username);
    await page.fill("#password", expected.user.password);
    await page.press("#password", "Enter");
    await page.waitForSelector("#losses-table tbody tr", { timeout: 15000 });
    const who = (await page.textContent("#who")).trim();
    check(who === expected.user.name, `${width}px: signed in as ${who}`);
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === SESSION_COOKIE);
    check(session && session.httpOnly && session.sameSite === "Strict", `${width}px: the session cookie is HttpOnly and SameSite=Strict`);
    const scriptSees = await page.evaluate(() => document.cookie.includes("tthc_session"));
    check(!scriptSees, `${width}px: scripts cannot read the session`);
    const lossRows = await page.locator("#losses-table tbody tr").count();
    check(lossRows === expected.signedIn.lossRows, `${width}px: ${lossRows} units lose points, expected ${expected.signedIn.lossRows}`);

    // The running month's live score, as the API counts it (a dossier may turn overdue between
    // the two readings: within half a point).
    await page.waitForFunction(() => document.getElementById("live-value").textContent.length > 0, null, { timeout: 15000 });
    const live = (await page.textContent("#live-value")).trim();
    const liveValue = Number(live.replace(/\./g, "").replace(",", "."));
    check(/^\d+,\d\d$/.test(live) && Math.abs(liveValue - expected.signedIn.liveScore) <= 0.5,
      `${width}px: live score ${live}, expected about ${expected.signedIn.liveScore}`);
    const liveGroups = await page.locator("#live-groups li").count();
    check(liveGroups === expected.latest.groups, `${width}px: ${liveGroups} live groups`);

    // The other views: what would win points back, the overdue stock by week, the decisions
    // announced late, the reports due.
    const rowsOf = async (id) => {
      await page.waitForFunction((t) => document.querySelector(`#${t} tbody tr`) !== null, id, { timeout: 15000 });
      return page.locator(`#${id} tbody tr`).count();
    };
    for (const [id, want] of [
      ["gains-table", expected.signedIn.gainRows],
      ["late-table", expected.signedIn.lateRows],
      ["due-table", expected.signedIn.dueRows],
    ]) {
      const got = await rowsOf(id);
      check(got === want, `${width}px: ${id} has ${got} rows, expected ${want}`);
    }
    await page.waitForFunction(() => document.getElementById("overdue-desc").textContent.length > 0, null, { timeout: 15000 });
    const weeks = await page.locator("#overdue-chart circle").count();
    check(weeks === expected.signedIn.overduePoints, `${width}px: ${weeks} weeks of overdue stock, expected ${expected.signedIn.overduePoints}`);

    // From the indicator to its dossiers, and to one dossier's timeline.
    await page.selectOption("#indicator", "ON_TIME_PROCESSING");
    await page.waitForSelector("#misses-list li button", { timeout: 15000 });
    await page.waitForFunction(
      () => document.getElementById("misses-status").textContent.includes("ON_TIME_PROCESSING"),
      null,
      { timeout: 15000 },
    );
    const misses = await page.locator("#misses-list li").count();
    check(misses === expected.signedIn.onTimeMisses, `${width}px: ${misses} dossiers listed, expected ${expected.signedIn.onTimeMisses}`);
    await page.click("#misses-list li:first-child button");
    await page.waitForSelector("#timeline-events tbody tr", { timeout: 15000 });
    const events = await page.locator("#timeline-events tbody tr").count();
    check(events > 0, `${width}px: the dossier's timeline has ${events} events`);
    const title = (await page.textContent("#timeline-title")).trim();
    check(title.startsWith("Hồ sơ "), `${width}px: the timeline is a dossier's: ${title}`);
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    check(scrollWidth <= width, `${width}px: signed in, the page is ${scrollWidth}px wide`);
    await page.locator("#misses-title").scrollIntoViewIfNeeded();
    await page.evaluate(() => document.getElementById("misses-title").scrollIntoView());
    await page.screenshot({ path: `${out}/console-signed-in-${width}.png` });
    await page.screenshot({ path: `${out}/console-signed-in-${width}-full.png`, fullPage: true });

    // The notice downloads with the cookie.
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-notice-xlsx")]);
    check(download.suggestedFilename() === expected.signedIn.notice, `${width}px: downloaded ${download.suggestedFilename()}`);
    const bytes = await readFile(await download.path());
    check(bytes.subarray(0, 2).toString() === "PK", `${width}px: the notice is an XLSX workbook`);

    // Signing out closes what was open.
    await page.click("#sign-out");
    await page.waitForSelector("#sign-in-form", { state: "visible" });
    check(!(await page.isVisible("#losses")), `${width}px: signed out, the points lost are hidden`);
    const left = (await context.cookies()).find((c) => c.name === SESSION_COOKIE);
    check(!left, `${width}px: signing out removes the session cookie`);
    check(errors.length === 0, `${width}px signed in: errors in the page: ${errors.join("; ")}`);
    await context.close();
  }
} finally {
  await browser.close();
}
if (failures.length > 0) {
  console.error(failures.join("\n"));
  process.exit(1);
}
console.log("console checks passed");
