// The dashboard (一图一码一指数): one ECharts panel per JSON endpoint of /dashboard, driven by one day slider.
/* global echarts */
import {startAlerts} from "./alerts.js";
import {$, Api, el, panel, say, withLogin} from "./common.js";

const api = new Api(sessionStorage, "shuzhi.staff");
const LEVEL_COLOURS = {low: "#5cb85c", medium: "#f0ad4e", high: "#d9534f"};
const LEVEL_NAMES = {low: "低风险 low", medium: "中风险 medium", high: "高风险 high"};
const FIVE_COLOURS = {green: "#5cb85c", blue: "#4a8fe0", yellow: "#f2d027", orange: "#f08a24", red: "#d9363e"};
const FIVE_NAMES = {green: "绿 green", blue: "蓝 blue", yellow: "黄 yellow", orange: "橙 orange", red: "红 red"};
const CODE_COLOURS = {green: "#2e9e44", yellow: "#e0a800", red: "#d32f2f"};
const NO_DATA = "#d9d9d9";
// Panels whose endpoints admit fewer roles than the dashboard's: hidden for the others (the server refuses them too).
const ONLY_FOR = {applications: ["operator"]};
const GRAPH_FITS = 6; // the square root of the node count a transmission graph shows at zoom 1
const FUNNEL = [["cases", "病例 cases"], ["close", "密接 close contacts"], ["secondary", "次密接 contacts of contacts"],
  ["companion", "时空伴随 companions"]];
const INDICATORS = {
  new_cases_per_100k_14d: "新增/10万 new per 100k (14d)",
  days_without_case: "无病例天数 days without case",
  share_found_under_observation_14d: "管控中发现 found under observation",
  risk_arrivals_per_100k_14d: "风险地区来人/10万 risk arrivals per 100k",
  inflow_vs_baseline: "流入/基线 inflow vs baseline",
  outflow_vs_baseline: "流出/基线 outflow vs baseline",
};

// What the panels show, kept on window for the browser tests and the console.
const state = {
  risk: null, dayIndex: 0, mode: "level", details: null, detailsDay: null, county: null, graph: null, replay: null,
  replayIndex: 0, palette: {level: LEVEL_COLOURS, five: FIVE_COLOURS}, epi: null, supplies: null, flows: null,
  applications: null, received: null, riskAreas: null, followup: null,
};
window.dashboard = state;
const charts = {};
const escape = (text) => echarts.format.encodeHTML(String(text ?? ""));
const fixed = (value, digits = 1) => (value === null || value === undefined ? "—" : Number(value).toFixed(digits));

function chart(id) {
  charts[id] ??= echarts.init($(`#${id}`));
  return charts[id];
}

async function start() {
  const live = panel("alerts", () => startAlerts(api, state)); // live crowd alerts need no pipeline results
  live.catch(() => {}); // a 401 is handled where the other panels meet it
  const [counties, cities] = await Promise.all(["county", "city"].map((l) => api.get(`/public/boundaries/${l}`)));
  echarts.registerMap("zhejiang-counties", counties);
  echarts.registerMap("zhejiang-cities", cities);
  state.risk = await api.get("/dashboard/area-risk"); // a role that may not see the dashboard stops here (403)
  setupDaySlider();
  const allowed = (name) => (ONLY_FOR[name] ?? [api.role]).includes(api.role);
  for (const name of Object.keys(ONLY_FOR)) $(`#${name}-panel`).hidden = !allowed(name);
  await Promise.all([
    panel("map", () => showDay()),
    panel("codes", showCodes),
    panel("funnel", showFunnel),
    panel("graph", showCases),
    panel("replay", showReplay),
    panel("epi", () => showEpi()),
    panel("flows", showFlows),
    allowed("applications") && panel("applications", showApplications),
    panel("received", showReceived),
    panel("followup", showFollowup),
    setupSupplies(),
    live,
  ]);
}

// 一图: the county map, coloured by level (or five colours) on the slider's day

function setupDaySlider() {
  const slider = $("#day-slider");
  slider.max = Math.max(state.risk.days.length - 1, 0);
  slider.value = slider.max;
  state.dayIndex = Number(slider.value);
  slider.addEventListener("input", () => {
    state.dayIndex = Number(slider.value);
    panel("map", showDay);
  });
  $("#map-mode").addEventListener("change", (event) => {
    state.mode = event.target.value;
    drawMap();
  });
  $("#index-level").addEventListener("change", () => panel("index", showIndex));
  for (const filter of ["#followup-filter", "#followup-county"]) {
    $(filter).addEventListener("change", () => panel("followup", showFollowup));
  }
  $("#followup-export").addEventListener("click", () => panel("followup", () =>
    api.download(`/dashboard/followup/csv?${followupFilters()}`)));
  chart("map").on("click", (event) => event.data && panel("map", () => showCounty(event.data.name)));
}

async function showDay() {
  const day = state.risk.days[state.dayIndex];
  $("#day-label").textContent = day ?? "—";
  drawMap();
  if (!day) return say("#map-status", "尚无风险评估 No area risk computed yet: run `shuzhi analyse`", "error");
  state.details = Object.fromEntries((await api.get(`/dashboard/area-risk/${day}`)).counties.map((c) => [c.code, c]));
  state.detailsDay = day;
  drawMap();
  await showRiskAreas(day);
  await panel("index", showIndex);
  if (state.county) showCounty(state.county);
}

// the day's compounds at high or medium risk, where the edition draws them (the 9th does; 404 otherwise)
async function showRiskAreas(day) {
  let found = {day, high: 0, medium: 0, areas: []};
  try {
    found = await api.get(`/public/risk-areas?day=${day}`);
  } catch (error) {
    if (error.status !== 404) throw error;
  }
  state.riskAreas = found;
  $("#map-areas").hidden = !found.areas.length;
  $("#map-areas-count").textContent = `high ${found.high} · medium ${found.medium}`;
  $("#map-areas-list").replaceChildren(...found.areas.map((a) => el("li", {"data-level": a.level},
    `${LEVEL_NAMES[a.level] ?? a.level} · ${a.county} ${a.compound.split(":").at(-1)} · ${a.reason}`)));
}

function mapColouring() {
  return state.mode === "level"
    ? {colours: LEVEL_COLOURS, names: LEVEL_NAMES, of: (c) => c.levels[state.dayIndex]}
    : {colours: FIVE_COLOURS, names: FIVE_NAMES, of: (c) => c.five_colours[state.dayIndex]};
}

function drawMap() {
  const {colours, names, of} = mapColouring();
  const data = state.risk.counties.map((county) => {
    const value = of(county) ?? null;
    return {name: county.code, county: county.name, value, itemStyle: {areaColor: colours[value] ?? NO_DATA}};
  });
  chart("map").setOption({
    tooltip: {trigger: "item", formatter: (p) => countyTooltip(p.data, names)},
    series: [{
      id: "counties", type: "map", map: "zhejiang-counties", nameProperty: "adcode", roam: true, data,
      selectedMode: false, emphasis: {label: {show: true}, itemStyle: {areaColor: "#9ab8e8"}},
      label: {show: false}, itemStyle: {borderColor: "#fff", borderWidth: 0.6},
    }],
  });
  const legend = $("#map-legend");
  legend.replaceChildren(...Object.entries(names).map(([key, name]) =>
    el("span", {}, el("i", {class: "swatch", style: `background:${colours[key]}`}), name)));
}

function countyTooltip(data, names) {
  if (!data) return "";
  const detail = state.details?.[data.name];
  const reason = state.mode === "level" ? detail?.reason : detail?.five_colour_reason;
  return `<b>${escape(data.county)}</b> ${escape(names[data.value] ?? "未评估 not rated")}` +
    (reason ? `<br>${escape(reason)}` : "");
}

async function showCounty(code) {
  state.county = code;
  const detail = state.details?.[code];
  const box = $("#county-detail");
  if (!detail) return box.replaceChildren("—");
  box.replaceChildren(
    el("h2", {}, `${detail.name} (${code})`),
    el("div", {}, `${LEVEL_NAMES[detail.level] ?? "—"}: ${detail.reason ?? ""}`),
    el("div", {}, `${FIVE_NAMES[detail.five_colour] ?? "—"}: ${detail.five_colour_reason ?? ""}`),
    el("div", {class: "muted"}, `累计 cumulative ${detail.cumulative ?? "—"} · 14天新增 new in 14 days ` +
      `${detail.new_14d ?? "—"} · 聚集 clusters ${detail.clusters_14d ?? "—"}`));
  await showIndexHistory(code, "county-index");
}

// 一码: residents by colour per day

// yellow and red (the few who matter) as stacked bars on their own axis; green, the many, as a line on the right
async function showCodes() {
  const counts = await api.get("/dashboard/codes/daily");
  chart("codes").setOption({
    tooltip: {trigger: "axis"},
    legend: {data: Object.keys(CODE_COLOURS)},
    grid: {right: 70},
    xAxis: {type: "category", data: counts.days},
    yAxis: [{type: "value", name: "黄·红 yellow·red"}, {type: "value", name: "绿 green", scale: true}],
    series: Object.entries(CODE_COLOURS).map(([colour, hex]) => (colour === "green"
      ? {name: colour, type: "line", yAxisIndex: 1, symbol: "none", color: hex, data: counts[colour]}
      : {name: colour, type: "bar", stack: "codes", color: hex, data: counts[colour]})),
  });
}

// 一指数: the index of every county (or city) on the slider's day, with its sub-indicators

async function showIndex() {
  const day = state.risk.days[state.dayIndex];
  const level = $("#index-level").value;
  const index = await api.get(`/dashboard/index?day=${day}&level=${level}`);
  $("#index-day").textContent = index.day;
  const rows = index.rows;
  chart("index-chart").setOption({
    tooltip: {trigger: "axis"},
    legend: {data: ["管控 control", "畅通 flow", "指数 index"], top: 0},
    grid: {top: 35, bottom: 95},
    // 30 areas at a time, the best first: 90 counties' names do not fit under one chart
    dataZoom: ["inside", "slider"].map((type) => ({type, start: 0, end: Math.min(100, 3000 / Math.max(rows.length, 1)),
      ...(type === "slider" ? {height: 14, bottom: 6} : {})})),
    xAxis: {type: "category", data: rows.map((r) => r.name), axisLabel: {rotate: 60, fontSize: 10, interval: 0}},
    yAxis: {type: "value", min: 0, max: 100},
    series: [
      {name: "管控 control", type: "bar", data: rows.map((r) => r.control)},
      {name: "畅通 flow", type: "bar", data: rows.map((r) => r.flow)},
      {name: "指数 index", type: "line", data: rows.map((r) => r.index)},
    ],
  });
  indexTable(index);
}

function indexTable(index) {
  const table = $("#index-table");
  const head = ["地区 Area", "指数 Index", "管控 Control", "畅通 Flow", ...index.indicators.map((i) => INDICATORS[i] ?? i)];
  table.tHead.replaceChildren(el("tr", {}, ...head.map((h) => el("th", {}, h))));
  table.tBodies[0].replaceChildren(...index.rows.map((row) => {
    const cells = [row.name, fixed(row.index), fixed(row.control), fixed(row.flow)];
    cells.push(...index.indicators.map((i) => `${fixed(row.values[i], 2)} (${fixed(row.scores[i], 0)})`));
    const tr = el("tr", {"data-code": row.area_code}, ...cells.map((c) => el("td", {}, c)));
    tr.addEventListener("click", () => {
      table.querySelectorAll("tr.chosen").forEach((r) => r.classList.remove("chosen"));
      tr.classList.add("chosen");
      panel("index", () => showIndexHistory(row.area_code, "index-chart"));
    });
    return tr;
  }));
}

async function showIndexHistory(code, target) {
  const history = await api.get(`/dashboard/index/${code}`);
  chart(target).setOption({
    title: {text: `${history.name} 指数 index`, textStyle: {fontSize: 12}},
    tooltip: {trigger: "axis"},
    legend: {data: ["指数 index", "管控 control", "畅通 flow"], right: 0},
    xAxis: {type: "category", data: history.days},
    yAxis: {type: "value", min: 0, max: 100},
    dataZoom: [],
    series: [["指数 index", history.index], ["管控 control", history.control], ["畅通 flow", history.flow]]
      .map(([name, data]) => ({name, type: "line", data})),
  }, {replaceMerge: ["series", "xAxis", "dataZoom"]});
}

// Tracing: the funnel, and the transmission graph of a chosen case

// bars, not a funnel's trapezoids: the stages grow (one case, dozens of contacts) and an edition may skip one
async function showFunnel() {
  const funnel = await api.get("/dashboard/tracing/funnel");
  const perCase = (key) => (funnel.cases ? ` (${(funnel[key] / funnel.cases).toFixed(1)} / case)` : "");
  chart("funnel").setOption({
    tooltip: {trigger: "item", formatter: "{b}: {c}"},
    grid: {left: 170, right: 150},
    xAxis: {type: "value"},
    yAxis: {type: "category", inverse: true, data: FUNNEL.map(([, name]) => name)},
    series: [{
      type: "bar", colorBy: "data",
      label: {show: true, position: "right", formatter: (p) => `${p.value.toLocaleString("en")}${
        p.dataIndex ? perCase(FUNNEL[p.dataIndex][0]) : ""}`},
      data: FUNNEL.map(([key, name]) => ({name, value: funnel[key]})),
    }],
  });
}

async function showCases() {
  const cases = await api.get("/dashboard/tracing/cases?limit=100");
  const select = $("#case-select");
  select.replaceChildren(...cases.map((c) => el("option", {value: c.case_key},
    `${c.case_key} · ${c.status ?? ""} · 密接 ${c.close} · 次密接 ${c.secondary}`)));
  select.addEventListener("change", () => panel("graph", () => showGraph(select.value)));
  if (cases.length) await showGraph(cases[0].case_key);
  else say("#graph-status", "没有病例 No traced cases.");
}

async function showGraph(caseKey) {
  const graph = await api.get(`/dashboard/tracing/graph/${caseKey}`);
  state.graph = graph;
  say("#graph-status", graph.secondary_shown < graph.secondary_edges
    ? `次密接 ${graph.secondary_shown} of ${graph.secondary_edges} contacts of contacts drawn` : "");
  chart("graph").setOption({
    tooltip: {formatter: (p) => (p.dataType === "edge"
      ? `${escape(p.data.rules.join(", "))}<br>${escape(p.data.evidence.join("; "))}`
      : `${escape(p.data.id)} · ${escape(p.data.status)}`)},
    legend: {data: graph.categories.map((c) => c.name)},
    series: [{
      type: "graph", layout: "force", roam: true, draggable: true, categories: graph.categories,
      // a force layout spreads with its node count: a case with hundreds of contacts starts zoomed out to fit
      zoom: Math.min(1, GRAPH_FITS / Math.sqrt(graph.nodes.length)),
      force: {repulsion: 120, edgeLength: 60}, edgeSymbol: ["none", "arrow"], edgeSymbolSize: 6,
      data: graph.nodes, links: graph.edges, lineStyle: {opacity: 0.7},
    }],
  }, {replaceMerge: ["series"]});
}

// Handovers: what other regions traced of this region's people (shuzhi.federation), per region and the latest

async function showReceived() {
  const received = await api.get("/dashboard/received");
  state.received = received;
  const when = (text) => (text ? text.replace("T", " ").slice(0, 16) : "—");
  $("#received-regions").tBodies[0].replaceChildren(...received.regions.map((r) => el("tr", {},
    el("td", {}, `${r.name} ${r.region}`), el("td", {}, String(r.cases)), el("td", {}, String(r.contacts)),
    el("td", {}, String(r.close)), el("td", {}, String(r.secondary)), el("td", {}, when(r.latest_contact_at)))));
  $("#received-contacts").tBodies[0].replaceChildren(...received.contacts.map((c) => el("tr", {},
    el("td", {}, c.person_key), el("td", {}, c.from_region), el("td", {}, c.classification), el("td", {}, c.setting),
    el("td", {}, when(c.first_contact_at)), el("td", {}, c.evidence))));
  if (!received.regions.length) say("#received-status", "尚无其他地区移交 No region has handed anyone over yet.");
}

// Follow-up: who is under a measure, which day of it, the health checks and tests missed, the next test
// (most urgent first)

let followupAsked = 0;  // the latest request: answers may arrive out of order

// the status and county chosen, as query parameters
function followupFilters() {
  const query = new URLSearchParams();
  for (const [key, filter] of [["status", "#followup-filter"], ["county", "#followup-county"]]) {
    if ($(filter).value) query.set(key, $(filter).value);
  }
  return query;
}

async function showFollowup() {
  const query = followupFilters();
  query.set("limit", 200);
  const asked = ++followupAsked;
  const worklist = await api.get(`/dashboard/followup?${query}`);
  if (asked !== followupAsked) return;  // the filters changed meanwhile: a newer answer is on its way
  state.followup = worklist;
  const counties = $("#followup-county");
  if (counties.options.length === 1) {  // once: every county with people on the list, with their number
    const named = Object.fromEntries((state.risk?.counties ?? []).map((c) => [c.code, c.name]));
    counties.append(...Object.entries(worklist.by_county).filter(([code]) => code !== "unregistered")
      .map(([code, n]) => el("option", {value: code}, `${named[code] ?? ""} ${code} (${n})`.trim())));
  }
  const counts = Object.entries(worklist.by_status).map(([status, n]) => `${status} ${n}`).join(" · ");
  const visited = Object.entries(worklist.visits_since_listed).map(([outcome, n]) => `${outcome} ${n}`).join(" · ");
  const lost = worklist.lost ? ` · 失联 lost ${worklist.lost}` : "";
  $("#followup-counts").textContent = `${worklist.day}: ${counts}${visited ? ` — 随访 visited since: ${visited}` : ""}${lost}`;
  $("#followup-table").tBodies[0].replaceChildren(...worklist.persons.map((p) => el("tr", {class: p.status},
    el("td", {}, p.person_key), el("td", {}, p.status), el("td", {}, p.county_code ?? "—"),
    el("td", {}, p.measure),
    el("td", {}, p.traced_on > p.since ? `${p.observation_day} (追踪 traced ${p.traced_on})` : String(p.observation_day)),
    el("td", {}, p.silent_days.join(", ")),
    el("td", {}, p.missed_days.join(", ")),
    el("td", {}, p.next_test_on ?? "—"), el("td", {}, p.reason), visitCell(p))));
  if (!worklist.persons.length) say("#followup-status", "无 None with this status.");
}

const VISIT_OUTCOMES = {reached: "已联系 reached", unavailable: "未联系上 unavailable", uncooperative: "不配合 uncooperative"};

// The last visit a field team recorded, and the controls to record one: reached (with the temperature taken,
// which counts as one of the day's health checks), unavailable or uncooperative.
function visitCell(p) {
  const last = p.last_visit
    ? `${VISIT_OUTCOMES[p.last_visit.outcome]} ${p.last_visit.visited_at.slice(0, 16).replace("T", " ")} ${p.last_visit.recorded_by}`
    : "—";
  const outcome = el("select", {"aria-label": "visit outcome"},
    ...Object.entries(VISIT_OUTCOMES).map(([value, name]) => el("option", {value}, name)));
  const temperature = el("input", {type: "number", step: "0.1", min: "34", max: "43", placeholder: "体温 °C",
    "aria-label": "temperature taken"});
  temperature.disabled = !p.county_code;  // a check is declared in a county: not for someone unregistered here
  const record = el("button", {type: "button"}, "记录 Record");
  record.addEventListener("click", () => panel("followup", async () => {
    const body = {outcome: outcome.value};
    if (outcome.value === "reached" && temperature.value) {
      body.measured = {region_code: p.county_code, temperature: Number(temperature.value), symptoms: [],
        contact_history: p.rule.includes("contact")};
    }
    await api.post(`/dashboard/followup/${p.person_key}/visits`, body);
    await showFollowup();
  }));
  const declared = p.last_declared_at  // live from the store: newer than the analysed list
    ? `最近申报 declared ${new Date(p.last_declared_at).toLocaleString()}` : "";
  const lost = p.lost  // the edition's number of failed visits in a row, nothing declared since
    ? el("div", {class: "lost"}, `失联 lost to follow-up: ${p.failed_visits} visits failed in a row`) : "";
  return el("td", {class: "visit"}, lost, el("div", {class: "last-visit"}, last),
    el("div", {class: "last-declared"}, declared), outcome, temperature, record);
}

// Decision support: daily cases (local, imported), R(t) with its credible interval, the projected week

async function showEpi(area = "") {
  const curve = await api.get(`/dashboard/epi${area ? `?area=${area}` : ""}`);
  state.epi = curve;
  const select = $("#epi-area");
  if (!select.options.length) {
    select.replaceChildren(...curve.areas.map((a) => el("option", {value: a.area_code}, `${a.name} ${a.area_code}`)));
    select.addEventListener("change", () => panel("epi", () => showEpi(select.value)));
  }
  select.value = curve.area.area_code;
  const seen = curve.observed;
  const ahead = curve.projected;
  const days = [...seen.map((d) => d.day), ...ahead.map((d) => d.day)];
  const blank = ahead.map(() => null);
  const latest = [...seen].reverse().find((d) => d.rt_mean !== null);
  $("#epi-latest").textContent = latest
    ? `R(t) ${fixed(latest.rt_mean, 2)} (${fixed(latest.rt_low, 2)}–${fixed(latest.rt_high, 2)}) · ${latest.day}`
    : "R(t) —";
  $("#epi-reason").textContent = [latest?.reason, ahead[0]?.reason].filter(Boolean).join(" · ");
  const band = (low, high) => [
    {name: "low", type: "line", yAxisIndex: 1, stack: "rt", symbol: "none", lineStyle: {opacity: 0}, data: low},
    {name: "band", type: "line", yAxisIndex: 1, stack: "rt", symbol: "none", lineStyle: {opacity: 0},
      areaStyle: {color: "rgba(217, 83, 79, 0.2)"}, data: high.map((h, i) => (h === null ? null : h - low[i]))},
  ];
  chart("epi").setOption({
    tooltip: {trigger: "axis", formatter: (items) => epiTooltip(curve, items[0].dataIndex)},
    legend: {data: ["本地 local", "输入 imported", "R(t)", "预测 projected"]},
    xAxis: {type: "category", data: days},
    yAxis: [{type: "value", name: "病例 cases"}, {type: "value", name: "R(t)", min: 0}],
    series: [
      {name: "本地 local", type: "bar", stack: "cases", data: [...seen.map((d) => d.local_cases), ...blank]},
      {name: "输入 imported", type: "bar", stack: "cases",
        data: [...seen.map((d) => d.cases - d.local_cases), ...blank]},
      {name: "预测 projected", type: "line", lineStyle: {type: "dashed"},
        data: [...seen.map(() => null), ...ahead.map((d) => d.expected)]},
      ...band(seen.map((d) => d.rt_low), seen.map((d) => d.rt_high)),
      {name: "R(t)", type: "line", yAxisIndex: 1, symbol: "none", color: "#d9534f",
        data: seen.map((d) => d.rt_mean),
        markLine: {silent: true, symbol: "none", label: {show: false}, data: [{yAxis: 1}], lineStyle: {type: "dotted"}}},
    ],
  }, {replaceMerge: ["series", "xAxis"]});
}

function epiTooltip(curve, index) {
  const day = curve.observed[index];
  if (day) {
    const rt = day.rt_mean === null ? "R(t) —" : `R(t) ${fixed(day.rt_mean, 2)} (${fixed(day.rt_low, 2)}–${fixed(day.rt_high, 2)})`;
    return `${day.day}<br>病例 cases ${day.cases} (本地 local ${day.local_cases})<br>${rt}<br>${escape(day.reason)}`;
  }
  const ahead = curve.projected[index - curve.observed.length];
  return `${ahead.day}<br>预测 expected ${fixed(ahead.expected)} (${fixed(ahead.expected_low)}–${fixed(ahead.expected_high)})`;
}

// High-risk flows: residents recently in a risk area, per county; the largest movements between cities

async function showFlows() {
  const found = await api.get("/dashboard/flows");
  state.flows = found;
  $("#flows-day").textContent = found.day;
  const top = found.arrivals.slice(0, 15);
  chart("flows-arrivals").setOption({
    tooltip: {trigger: "axis"},
    legend: {data: ["medium", "high"]},
    grid: {left: 110},
    xAxis: {type: "value", name: "居民 residents"},
    yAxis: {type: "category", inverse: true, data: top.map((c) => c.name)},
    series: ["medium", "high"].map((level) => ({
      name: level, type: "bar", stack: "arrivals", color: LEVEL_COLOURS[level],
      data: top.map((c) => c.by_level[level] ?? 0),
    })),
  });
  $("#flows-table").tBodies[0].replaceChildren(...found.flows.map((f) => el("tr", {},
    el("td", {}, f.origin_name), el("td", {}, f.destination_name),
    el("td", {}, f.movements.toLocaleString("en")), el("td", {}, f.persons.toLocaleString("en")))));
}

// Return to work: pending applications, approved or rejected with a written decision (operators only)

async function showApplications() {
  const pending = await api.get("/enterprise/review");
  state.applications = pending;
  $("#applications-table").tBodies[0].replaceChildren(...pending.map((a) => {
    const note = el("input", {type: "text", "aria-label": "decision", placeholder: "审核意见 decision"});
    const decide = (approve) => panel("applications", async () => {
      await api.post(`/enterprise/review/${a.id}/decision`, {approve, decision: note.value || (approve ? "approved" : "rejected")});
      await showApplications();
    });
    const yes = el("button", {type: "button", class: "approve"}, "批准 Approve");
    const no = el("button", {type: "button", class: "reject"}, "驳回 Reject");
    yes.addEventListener("click", () => decide(true));
    no.addEventListener("click", () => decide(false));
    return el("tr", {"data-id": a.id}, el("td", {}, String(a.id)), el("td", {}, a.enterprise_code),
      el("td", {}, a.planned_date), el("td", {}, String(a.staff_planned)), el("td", {}, a.risk_class),
      el("td", {}, a.risk_reasons.join("; ")), el("td", {}, note, yes, no));
  }));
  if (!pending.length) say("#applications-status", "没有待审核的申请 No application waits for review.");
}

// Supplies: the stock in (CSV), each item's need, allocation and shortfall, and the shipments out

function setupSupplies() {
  $("#supplies-form").addEventListener("submit", (event) => {
    event.preventDefault();
    panel("supplies", planSupplies);
  });
}

function stockRows(text) {
  const [header, ...lines] = text.trim().split(/\r?\n/).map((line) => line.split(",").map((cell) => cell.trim()));
  if (header.join(",") !== "item,holder,quantity") throw new Error("the first line must be item,holder,quantity");
  return lines.filter((cells) => cells.join("")).map(([item, holder, quantity]) => ({item, holder, quantity: Number(quantity)}));
}

async function planSupplies() {
  const plan = await api.post("/dashboard/supplies/plan", {stock: stockRows($("#supplies-stock").value)});
  state.supplies = plan;
  const number = (n) => n.toLocaleString("en");
  $("#supplies-items").tBodies[0].replaceChildren(...plan.items.map((i) => el("tr", {},
    el("td", {}, `${i.item} (${i.unit})`), el("td", {}, number(i.need)), el("td", {}, number(i.allocated)),
    el("td", {}, number(i.short)), el("td", {}, number(i.moved_between_cities)))));
  const why = Object.fromEntries(plan.items.flatMap((i) => i.counties.map((c) => [`${i.item}/${c.county_code}`, c.reason])));
  $("#supplies-shipments").tBodies[0].replaceChildren(...plan.items.flatMap((i) => i.shipments.map((s) => el("tr", {},
    el("td", {}, i.item), el("td", {}, s.holder_name), el("td", {}, s.name), el("td", {}, number(s.quantity)),
    el("td", {}, why[`${i.item}/${s.county_code}`] ?? "")))));
  say("#supplies-status", `${plan.day} · ${plan.edition}`);
}

// The real 2020 replay: Zhejiang's 11 cities on the map, every city of China in the table

async function showReplay() {
  const replay = await api.get("/dashboard/replay");
  state.replay = replay;
  const first = new Date(`${replay.days[0]}T00:00:00Z`);
  const length = Object.values(replay.cities)[0]?.length ?? 0;
  replay.dayList = Array.from({length}, (_, i) => new Date(first.getTime() + i * 864e5).toISOString().slice(0, 10));
  $("#replay-rule").textContent = `${replay.rule} — ${replay.assumption}`;
  const slider = $("#replay-slider");
  slider.max = Math.max(length - 1, 0);
  slider.value = Math.min(replay.dayList.indexOf("2020-02-15"), length - 1);
  slider.addEventListener("input", () => drawReplay(Number(slider.value)));
  drawReplay(Number(slider.value));
}

function drawReplay(index) {
  const replay = state.replay;
  state.replayIndex = index;
  $("#replay-day").textContent = replay.dayList[index];
  const levelOf = (code) => replay.levels[replay.cities[code]?.[index]];
  const zhejiang = Object.keys(replay.cities).filter((code) => code.startsWith("33"));
  chart("replay-map").setOption({
    tooltip: {trigger: "item", formatter: (p) => `${escape(p.data?.city)} ${escape(LEVEL_NAMES[p.data?.value])}`},
    series: [{
      type: "map", map: "zhejiang-cities", nameProperty: "adcode", roam: true, selectedMode: false,
      data: zhejiang.map((code) => ({name: code, city: replay.names[code], value: levelOf(code),
        itemStyle: {areaColor: LEVEL_COLOURS[levelOf(code)] ?? NO_DATA}})),
    }],
  });
  const rank = (code) => -(replay.cities[code]?.[index] ?? -1);
  const codes = Object.keys(replay.cities).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  $("#replay-table").tBodies[0].replaceChildren(...codes.map((code) => el("tr", {},
    el("td", {}, code), el("td", {}, replay.names[code] ?? ""),
    el("td", {}, el("i", {class: "swatch", style: `background:${LEVEL_COLOURS[levelOf(code)]}`}),
      LEVEL_NAMES[levelOf(code)] ?? "—"))));
}

window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));
withLogin(api, "指挥看板 Dashboard login", start);
