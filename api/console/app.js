// The office console's public view: the published results of closed months, read from the
// public API (/api/v1/published) like any other client. Everything shown is put into the page
// as text (textContent), never as markup.
"use strict";

const api = "/api/v1";
const state = { months: [], month: null, province: null, session: null, asked: 0, lossesAsked: 0, missesAsked: 0 };
const $ = (id) => document.getElementById(id);

/** A number as Vietnamese documents write it: 78,49 (`least` to `most` decimals). */
function vn(x, least = 2, most = least) {
  return x === null || x === undefined
    ? "–"
    : x.toLocaleString("vi-VN", { minimumFractionDigits: least, maximumFractionDigits: most });
}

/** "2026-10" as "tháng 10/2026". */
function monthLabel(period) {
  const [year, month] = period.split("-");
  return `tháng ${Number(month)}/${year}`;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

/** A request to the API; a change carries the header the session cookie needs for it. */
async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-Requested-With"] = "tthc-console";
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return fetch(api + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
}

async function getJson(path) {
  const res = await call("GET", path);
  if (!res.ok) {
    let detail = res.statusText;
    try {
      detail = (await res.json()).detail || detail;
    } catch (_) {
      // not a problem document
    }
    throw new Error(detail);
  }
  return res.json();
}

function setStatus(text) {
  $("status").textContent = text;
}

/** The change since the month before, with its sign and direction. */
function changeNode(change) {
  const span = el("span", { class: "change" });
  if (change === null || change === undefined) {
    span.textContent = "";
    return span;
  }
  const up = change > 0;
  const down = change < 0;
  span.className = "change" + (up ? " up" : down ? " down" : "");
  const arrow = up ? "▲ " : down ? "▼ " : "";
  span.textContent = arrow + (up ? "+" : "") + vn(change);
  span.setAttribute(
    "aria-label",
    up ? `tăng ${vn(change)} điểm` : down ? `giảm ${vn(-change)} điểm` : "không đổi",
  );
  return span;
}

function renderScore(province, period) {
  $("score-title").textContent = `${province.name}, ${monthLabel(period)}`;
  $("score-value").textContent = vn(province.score);
  $("score-change").replaceWith(
    Object.assign(changeNode(province.change), { id: "score-change" }),
  );
  groupBars($("groups"), province.groups);
  $("score").hidden = false;
}

/** Each group ({name, score, maxScore}) as a bar of its share of its maximum. */
function groupBars(list, groups) {
  list.replaceChildren(
    ...groups.map((g) => {
      const share = g.maxScore > 0 && g.score !== null ? Math.max(0, Math.min(1, g.score / g.maxScore)) : 0;
      // The width is set through the style object: the policy refuses style attributes.
      const bar = el("span", { class: "bar", role: "presentation" }, el("span"));
      bar.firstChild.style.width = `${(share * 100).toFixed(1)}%`;
      return el(
        "li",
        {},
        el("span", {}, g.name),
        bar,
        el("span", { class: "points" }, `${vn(g.score)} / ${vn(g.maxScore, 0, 2)}`),
      );
    }),
  );
}

/**
 * A line of `points` ({value, label, title}, oldest first) in `chart` (an SVG of 640 × 240), on
 * a scale from `lo` to `hi` with a grid line every `step`; every `every`-th point is labelled.
 */
function drawLine(chart, points, lo, hi, step, every = 1) {
  chart.replaceChildren();
  const [w, h, left, right, top, bottom] = [640, 240, 52, 32, 16, 36];
  const x = (i) => left + (points.length === 1 ? (w - left - right) / 2 : (i * (w - left - right)) / (points.length - 1));
  const y = (v) => top + ((hi - v) * (h - top - bottom)) / (hi - lo || 1);
  for (let tick = lo; tick <= hi; tick += step) {
    chart.append(svg("line", { class: "axis", x1: left, x2: w - right, y1: y(tick), y2: y(tick) }));
    const label = svg("text", { x: left - 6, y: y(tick) + 4, "text-anchor": "end" });
    label.textContent = tick.toLocaleString("vi-VN");
    chart.append(label);
  }
  chart.append(svg("polyline", { class: "line", points: points.map((p, i) => `${x(i)},${y(p.value)}`).join(" ") }));
  points.forEach((p, i) => {
    const dot = svg("circle", { class: "dot", cx: x(i), cy: y(p.value), r: 4 });
    const title = svg("title");
    title.textContent = p.title;
    dot.append(title);
    chart.append(dot);
    if (i % every === 0 || i === points.length - 1) {
      const label = svg("text", { x: x(i), y: h - 12, "text-anchor": "middle" });
      label.textContent = p.label;
      chart.append(label);
    }
  });
}

/** The province's total over the 12 published months up to the chosen one, oldest first. */
function renderTrend(code, upTo) {
  const points = state.months
    .filter((m) => m.period <= upTo)
    .slice(0, 12)
    .map((m) => ({ period: m.period, score: (m.provinces.find((p) => p.unit === code) || {}).score }))
    .filter((p) => p.score !== null && p.score !== undefined)
    .reverse();
  const chart = $("trend-chart");
  chart.replaceChildren();
  const body = $("trend-table").tBodies[0];
  body.replaceChildren(
    ...points.map((p) => el("tr", {}, el("td", {}, monthLabel(p.period)), el("td", { class: "n" }, vn(p.score)))),
  );
  if (points.length === 0) {
    $("trend").hidden = true;
    return;
  }
  const scores = points.map((p) => p.score);
  const lo = Math.max(0, Math.floor((Math.min(...scores) - 5) / 10) * 10);
  const hi = Math.min(100, Math.ceil((Math.max(...scores) + 5) / 10) * 10);
  drawLine(
    chart,
    points.map((p) => {
      const [year, month] = p.period.split("-");
      return { value: p.score, label: `${Number(month)}/${year.slice(2)}`, title: `${monthLabel(p.period)}: ${vn(p.score)} điểm` };
    }),
    lo,
    hi,
    10,
  );
  const first = points[0];
  const last = points[points.length - 1];
  $("trend-desc").textContent =
    `Từ ${monthLabel(first.period)} (${vn(first.score)} điểm) đến ${monthLabel(last.period)} (${vn(last.score)} điểm).`;
  $("trend").hidden = false;
}

function renderUnits(province) {
  const level = $("level").value;
  const shown = province.units.filter((u) =>
    level === "" ? true : level === "department" ? u.level === "department" : u.level !== "department",
  );
  $("units-table").tBodies[0].replaceChildren(
    ...shown.map((u) =>
      el(
        "tr",
        {},
        el("td", { class: "n" }, String(u.rank)),
        el("td", {}, u.name),
        el("td", { class: "n" }, vn(u.score)),
        el("td", { class: "n" }, changeNode(u.change)),
      ),
    ),
  );
  $("units").hidden = false;
}

function render() {
  const month = state.month;
  const province = month.provinces.find((p) => p.unit === state.province) || month.provinces[0];
  if (!province) {
    setStatus(`Chưa có kết quả công bố cho ${monthLabel(month.period)}.`);
    return;
  }
  state.province = province.unit;
  $("province").value = province.unit;
  renderScore(province, month.period);
  renderTrend(province.unit, month.period);
  renderUnits(province);
  if (state.session) renderSignedIn();
  const closed = new Date(month.closedAt).toLocaleDateString("vi-VN", { timeZone: "Asia/Ho_Chi_Minh" });
  setStatus(`Kết quả ${monthLabel(month.period)}, chốt số liệu ngày ${closed}.`);
}

async function showMonth(period) {
  setStatus("Đang tải…");
  // Only the last month asked for is shown, whatever order the answers come back in.
  const asked = ++state.asked;
  try {
    const month = await getJson(`/published/${encodeURIComponent(period)}`);
    if (asked !== state.asked) return;
    state.month = month;
    const provinces = state.month.provinces;
    const select = $("province");
    select.replaceChildren(...provinces.map((p) => el("option", { value: p.unit }, p.name)));
    select.hidden = provinces.length < 2;
    select.labels.forEach((l) => (l.hidden = provinces.length < 2));
    render();
  } catch (e) {
    if (asked === state.asked) setStatus(`Không tải được kết quả: ${e.message}`);
  }
}

async function start() {
  try {
    state.months = (await getJson("/published")).items;
  } catch (e) {
    setStatus(`Không tải được danh sách tháng: ${e.message}`);
    return;
  }
  if (state.months.length === 0) {
    setStatus("Chưa có tháng nào được chốt số liệu và công bố.");
    return;
  }
  const select = $("period");
  select.replaceChildren(...state.months.map((m) => el("option", { value: m.period }, monthLabel(m.period))));
  select.disabled = false;
  select.addEventListener("change", () => showMonth(select.value));
  $("province").addEventListener("change", () => {
    state.province = $("province").value;
    render();
  });
  $("level").addEventListener("change", () => state.month && render());
  await showMonth(state.months[0].period);
}

// Signed in: a person's session, kept by the browser in an HttpOnly cookie.

/** The unit a signed-in person works on: the province for the provincial office, else their own. */
function ownUnit() {
  const s = state.session;
  return s.allUnits ? state.province : s.units[0];
}

function renderSession() {
  const s = state.session;
  $("sign-in").hidden = Boolean(s);
  $("who").hidden = !s;
  $("sign-out").hidden = !s;
  $("who").textContent = s ? s.name || s.username || s.subject : "";
  for (const id of ["live", "losses", "misses", "gains", "overdue", "late", "due", "downloads"]) $(id).hidden = !s;
  if (s && state.month) renderSignedIn();
}

async function loadSession() {
  // 204: nobody is signed in.
  const res = await call("GET", "/auth/session");
  state.session = res.status === 200 ? await res.json() : null;
  renderSession();
}

async function signIn(event) {
  event.preventDefault();
  const status = $("sign-in-status");
  status.textContent = "";
  const res = await call("POST", "/auth/session", {
    username: $("username").value.trim(),
    password: $("password").value,
  });
  $("password").value = "";
  if (!res.ok) {
    status.textContent =
      res.status === 429 ? "Đăng nhập sai quá nhiều lần; vui lòng thử lại sau." : "Sai tên đăng nhập hoặc mật khẩu.";
    return;
  }
  state.session = await res.json();
  renderSession();
  $("losses-title").focus();
}

async function signOut() {
  await call("DELETE", "/auth/session");
  state.session = null;
  renderSession();
}

function renderDownloads(unit, period) {
  const q = `unit=${encodeURIComponent(unit)}&period=${encodeURIComponent(period)}`;
  const year = period.slice(0, 4);
  const links = [
    ["Thông báo tháng (XLSX)", `${api}/reports/notice?${q}&format=xlsx`, "notice-xlsx"],
    ["Thông báo tháng (bản in, HTML)", `${api}/reports/notice?${q}&format=html`, "notice-html"],
    ["Biểu mẫu II.06a theo đơn vị (XLSX)", `${api}/reports/ii06a?${q}&by=unit&format=xlsx`, "ii06a-xlsx"],
    ["Điểm bị trừ theo đơn vị (XLSX)", `${api}/units/${encodeURIComponent(unit)}/scores/${encodeURIComponent(period)}/losses?format=xlsx`, "losses-xlsx"],
    [`Chế độ báo cáo năm ${year} (XLSX)`, `${api}/reporting-duties/compliance?year=${year}&unit=${encodeURIComponent(unit)}&format=xlsx`, "duties-xlsx"],
    [`Nhiệm vụ được giao năm ${year} (XLSX)`, `${api}/tasks/compliance?year=${year}&unit=${encodeURIComponent(unit)}&format=xlsx`, "tasks-xlsx"],
  ];
  $("downloads-list").replaceChildren(
    ...links.map(([label, href, id]) => el("li", {}, el("a", { href, id: `download-${id}` }, label))),
  );
}

async function renderSignedIn() {
  const unit = ownUnit();
  const period = state.month.period;
  if (!unit) return;
  renderDownloads(unit, period);
  renderLive(unit);
  renderGains(unit, period);
  renderOverdue(unit);
  renderLate();
  renderDue(unit);
  $("losses-title").setAttribute("tabindex", "-1");
  // As for months: only the last answer asked for is shown.
  const asked = ++state.lossesAsked;
  try {
    const losses = await getJson(`/units/${encodeURIComponent(unit)}/scores/${encodeURIComponent(period)}/losses`);
    if (asked !== state.lossesAsked) return;
    $("losses-lead").textContent = `${monthLabel(period)}: ${vn(losses.pointsLost)} điểm bị trừ, theo đơn vị trực thuộc.`;
    const rows = [...losses.items, losses.own].filter((l) => l.total > 0).sort((a, b) => b.total - a.total);
    $("losses-table").tBodies[0].replaceChildren(
      ...rows.map((l) => el("tr", {}, el("td", {}, l.name), el("td", { class: "n" }, vn(l.total)))),
    );
    const byIndicator = new Map();
    for (const l of [...losses.items, losses.own]) {
      for (const [code, points] of Object.entries(l.points)) {
        if (points > 0) byIndicator.set(code, (byIndicator.get(code) || 0) + points);
      }
    }
    const select = $("indicator");
    const chosen = select.value;
    // Only the indicators whose dossiers are listed one by one can be drilled into.
    const listed = new Set(losses.missesListed);
    const indicators = [...byIndicator.entries()].filter(([code]) => listed.has(code)).sort((a, b) => b[1] - a[1]);
    select.replaceChildren(
      ...indicators.map(([code, points]) => el("option", { value: code }, `${code} (−${vn(points)})`)),
    );
    if (indicators.some(([code]) => code === chosen)) select.value = chosen;
    await showMisses();
  } catch (e) {
    if (asked === state.lossesAsked) $("losses-lead").textContent = `Không tải được điểm bị trừ: ${e.message}`;
  }
}

async function showMisses() {
  const unit = ownUnit();
  const period = state.month.period;
  const indicator = $("indicator").value;
  const list = $("misses-list");
  const asked = ++state.missesAsked;
  list.replaceChildren();
  $("timeline").hidden = true;
  if (!indicator) {
    $("misses-status").textContent = "Không có chỉ số nào bị trừ điểm.";
    return;
  }
  try {
    const page = await getJson(
      `/units/${encodeURIComponent(unit)}/scores/${encodeURIComponent(period)}/indicators/${encodeURIComponent(indicator)}/misses?limit=20`,
    );
    if (asked !== state.missesAsked) return;
    $("misses-status").textContent =
      page.items.length === 0 ? "Không có hồ sơ nào." : `${page.items.length} bản ghi đầu tiên làm mất điểm chỉ số ${indicator}.`;
    list.replaceChildren(
      ...page.items.map((m) => {
        const button = el("button", { type: "button", "aria-pressed": "false" }, `${m.code} · ${m.reason}`);
        button.addEventListener("click", () => {
          for (const b of list.querySelectorAll("button")) b.setAttribute("aria-pressed", "false");
          button.setAttribute("aria-pressed", "true");
          showTimeline(m);
        });
        return el("li", {}, button);
      }),
    );
  } catch (e) {
    if (asked === state.missesAsked) $("misses-status").textContent = `Không tải được danh sách (${e.message}).`;
  }
}

/** Rows of a table from `items` (at most `most`), each row's cells from `cells`; `none` when empty. */
function fillTable(id, items, cells, none, most = 10) {
  const body = $(id).tBodies[0];
  if (items.length === 0) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: String($(id).tHead.rows[0].cells.length) }, none)));
    return;
  }
  body.replaceChildren(...items.slice(0, most).map((item) => el("tr", {}, ...cells(item))));
}

/** A view's failure, said in its table. */
function failTable(id, e) {
  fillTable(id, [], () => [], `Không tải được: ${e.message}`);
}

/** The running month's score of the person's unit, counted from the records now. */
async function renderLive(unit) {
  const month = new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Ho_Chi_Minh" }).slice(0, 7);
  try {
    const live = await getJson(`/units/${encodeURIComponent(unit)}/scores/${month}`);
    $("live-title").textContent = `Điểm tạm tính ${monthLabel(month)}`;
    $("live-value").textContent = vn(live.score);
    $("live-lead").textContent = "Tính từ hồ sơ, phản ánh và thủ tục đến thời điểm này; thay đổi đến khi tháng được chốt.";
    groupBars($("live-groups"), live.groups.map((g) => ({ name: g.nameVi, score: g.score, maxScore: g.maxScore })));
  } catch (e) {
    $("live-lead").textContent = `Không tải được: ${e.message}`;
  }
}

/** The actions that would win points back this period, most points first. */
async function renderGains(unit, period) {
  try {
    const gains = await getJson(`/units/${encodeURIComponent(unit)}/scores/${encodeURIComponent(period)}/gains`);
    fillTable(
      "gains-table",
      gains.actions,
      (a) => [el("td", {}, a.unitName), el("td", {}, a.description), el("td", { class: "n" }, `+${vn(a.points)}`)],
      "Không còn việc nào gỡ được điểm.",
    );
  } catch (e) {
    failTable("gains-table", e);
  }
}

/** The overdue stock at the end of each week of the last 26, as a line. */
async function renderOverdue(unit) {
  const today = new Date();
  const from = new Date(today.getTime() - 182 * 86400000);
  const day = (d) => d.toLocaleDateString("sv-SE", { timeZone: "Asia/Ho_Chi_Minh" });
  try {
    const series = await getJson(
      `/units/${encodeURIComponent(unit)}/overdue/series?from=${day(from)}&to=${day(today)}&every=week`,
    );
    const points = series.points.map((p) => {
      const at = new Date(p.at);
      const label = at.toLocaleDateString("vi-VN", { timeZone: "Asia/Ho_Chi_Minh", day: "numeric", month: "numeric" });
      return { value: p.overdue, label, title: `${label}: ${p.overdue.toLocaleString("vi-VN")} hồ sơ quá hạn / ${p.open.toLocaleString("vi-VN")} đang giải quyết` };
    });
    const most = Math.max(10, ...points.map((p) => p.value));
    const step = 10 ** Math.floor(Math.log10(most));
    drawLine($("overdue-chart"), points, 0, Math.ceil(most / step) * step, step, 4);
    const last = series.points[series.points.length - 1];
    $("overdue-desc").textContent = last
      ? `Hiện có ${last.overdue.toLocaleString("vi-VN")} hồ sơ quá hạn trong ${last.open.toLocaleString("vi-VN")} hồ sơ đang giải quyết.`
      : "Không có số liệu.";
  } catch (e) {
    $("overdue-desc").textContent = `Không tải được: ${e.message}`;
  }
}

/** Ministry decisions announced late, or not yet past their deadline, most late first. */
async function renderLate() {
  try {
    const late = await getJson("/announcements/late");
    fillTable(
      "late-table",
      late.items,
      (a) => [
        el("td", {}, `${a.ministryDecision.number}: ${a.title}`),
        el("td", {}, a.unit ? a.unit.name : ""),
        el("td", { class: "n" }, String(a.workingDaysLate)),
      ],
      "Không có quyết định nào công bố chậm.",
    );
  } catch (e) {
    failTable("late-table", e);
  }
}

/** Reports due in the next 14 days. */
async function renderDue(unit) {
  try {
    const due = await getJson(`/reporting-duties/due?days=14&unit=${encodeURIComponent(unit)}`);
    fillTable(
      "due-table",
      due.items,
      (d) => [el("td", {}, d.dutyName), el("td", {}, d.unitName), el("td", { class: "n" }, new Date(`${d.dueOn}T00:00:00`).toLocaleDateString("vi-VN"))],
      "Không có báo cáo nào đến hạn trong 14 ngày tới.",
    );
  } catch (e) {
    failTable("due-table", e);
  }
}

/** A dossier's status in the words of the national sync codes. */
const STATUS = {
  newlyRegistered: "Mới đăng ký",
  received: "Đã tiếp nhận",
  notAccepted: "Không được tiếp nhận",
  processing: "Đang xử lý",
  supplementRequested: "Yêu cầu bổ sung",
  financialObligation: "Yêu cầu thực hiện nghĩa vụ tài chính",
  withdrawn: "Công dân rút hồ sơ",
  stopped: "Dừng xử lý",
  finished: "Đã xử lý xong",
  returned: "Đã trả kết quả",
};

function when(instant) {
  return new Date(instant).toLocaleString("vi-VN", { timeZone: "Asia/Ho_Chi_Minh" });
}

async function showTimeline(miss) {
  const box = $("timeline");
  $("timeline-title").textContent = `${miss.kind === "dossier" ? "Hồ sơ" : "Bản ghi"} ${miss.code}`;
  $("timeline-steps").replaceChildren(el("li", {}, miss.reason));
  $("timeline-events").tBodies[0].replaceChildren();
  box.hidden = false;
  // The dossier's story shows above the list, where the eye (and the focus) goes.
  $("timeline-title").focus();
  if (miss.kind !== "dossier") return;
  try {
    const t = await getJson(`/dossiers/${encodeURIComponent(miss.code)}/timeline`);
    $("timeline-steps").replaceChildren(...t.steps.map((step) => el("li", {}, step)));
    $("timeline-events").tBodies[0].replaceChildren(
      ...t.events.map((e) => el("tr", {}, el("td", {}, when(e.at)), el("td", {}, STATUS[e.status] || e.status))),
    );
  } catch (e) {
    $("timeline-steps").replaceChildren(el("li", {}, `Không tải được diễn biến hồ sơ: ${e.message}`));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
  $("indicator").addEventListener("change", showMisses);
  loadSession();
  start();
});
