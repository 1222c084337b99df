// Public information, no login: the county risk map, cases by city (small counts withheld) and the
// same-trip query over published case itineraries. Text goes in with textContent only.
/* global echarts */
import {$, Api, el, refusal, say} from "./common.js";

const api = new Api(sessionStorage, "shuzhi.public");
const LEVELS = {low: ["低风险 low", "#5cb85c"], medium: ["中风险 medium", "#f0ad4e"], high: ["高风险 high", "#d9534f"]};
const NO_DATA = "#d9d9d9";
const NATION = "100000";
const state = {statistics: null, trip: null, catalogue: null, national: null, riskAreas: null};
window.publicPage = state; // for the browser tests and the console

const shown = (count, rule) => (count === null ? `≤ ${rule.withheldUpTo}` : String(count));

async function showDay(day) {
  const query = day ? `&day=${day}` : "";
  const [counties, cities] = await Promise.all([
    api.get(`/public/open-statistics?level=county${query}`),
    api.get(`/public/open-statistics?level=city${query}`),
  ]);
  state.statistics = {counties, cities};
  const select = $("#public-day");
  if (!select.options.length) {
    select.replaceChildren(...counties.days.map((d) => el("option", {value: d}, d)));
    select.addEventListener("change", () => showDay(select.value).catch((e) => say("#public-status", refusal(e), "error")));
  }
  select.value = counties.day;
  drawMap(counties);
  drawTable(cities);
  await showRiskAreas(counties.day);
}

// the day's high- and medium-risk areas (compounds), where the edition draws them (the 9th does)
async function showRiskAreas(day) {
  try {
    state.riskAreas = await api.get(`/public/risk-areas?day=${day}`);
  } catch (error) {
    if (error.status !== 404) throw error;
    state.riskAreas = {day, high: 0, medium: 0, areas: []};
  }
  const found = state.riskAreas;
  $("#risk-areas").hidden = !found.areas.length;
  $("#risk-areas-summary").textContent = `${found.day} · 高风险 high ${found.high} · 中风险 medium ${found.medium}`;
  $("#risk-areas-table").tBodies[0].replaceChildren(...found.areas.map((a) => el("tr", {"data-level": a.level},
    el("td", {}, LEVELS[a.level][0]), el("td", {}, a.county), el("td", {title: a.reason}, a.compound.split(":").at(-1)), // the county is its own column
    el("td", {}, a.last_case_day))));
}

function drawMap(counties) {
  const data = counties.areas.map((a) => ({
    name: a.area_code, county: a.name, level: a.level, itemStyle: {areaColor: LEVELS[a.level]?.[1] ?? NO_DATA},
  }));
  echarts.getInstanceByDom($("#public-map")) ?? echarts.init($("#public-map"));
  echarts.getInstanceByDom($("#public-map")).setOption({
    tooltip: {trigger: "item", formatter: (p) => (p.data ? `${echarts.format.encodeHTML(p.data.county)} ${LEVELS[p.data.level]?.[0] ?? ""}` : "")},
    series: [{type: "map", map: "zhejiang-counties", nameProperty: "adcode", roam: true, data, selectedMode: false,
      label: {show: false}, itemStyle: {borderColor: "#fff", borderWidth: 0.6}}],
  });
  $("#public-legend").replaceChildren(...Object.values(LEVELS).map(([name, colour]) =>
    el("span", {}, el("i", {class: "swatch", style: `background:${colour}`}), name)));
}

function drawTable(cities) {
  const rule = {withheldUpTo: Number(cities.rule.match(/from 1 to (\d+)/)?.[1] ?? 0)};
  $("#public-table").tBodies[0].replaceChildren(...cities.areas.map((a) => el("tr", {"data-code": a.area_code},
    el("td", {}, a.name), el("td", {}, shown(a.new_cases, rule)), el("td", {}, shown(a.new_local_cases, rule)),
    el("td", {}, shown(a.new_14d, rule)), el("td", {}, shown(a.cumulative, rule)))));
  $("#public-rule").textContent = `${cities.day} · ${cities.rule} · ${cities.edition}`;
}

async function lookUp(event) {
  event.preventDefault();
  const number = $("#trip-no").value.trim();
  const day = $("#trip-day").value;
  const found = await api.get(`/public/same-trip?trip_no=${encodeURIComponent(number)}${day ? `&day=${day}` : ""}`);
  state.trip = found;
  $("#trip-matches").replaceChildren(...found.matches.map((m) => el("li", {class: "match"},
    `${m.day} ${m.mode} ${m.trip_no}${m.carriage ? ` · ${m.carriage} 车厢 carriage` : ""} · ` +
    `${m.origin_stop ?? ""} ${m.dep_time.slice(11, 16)} → ${m.destination_stop ?? ""} ${m.arr_time.slice(11, 16)} · ` +
    `公布 published ${m.notice_day} · ${m.publisher}${m.verified ? " · 已核实 verified" : ""}`)));
  say("#trip-status", found.advice, found.matches.length ? "error" : "info");
}

async function showCatalogue() {
  const found = await api.get("/public/catalogue");
  state.catalogue = found;
  $("#catalogue-measures").replaceChildren(...found.measures.map((m) => el("li", {},
    el("strong", {}, `${m.name}: ${m.value === null ? "—" : `${m.value} ${m.unit}`}`), ` (${m.how})`)));
  $("#catalogue-held").tBodies[0].replaceChildren(...found.held.map((h) => el("tr", {},
    el("td", {title: h.description}, h.name), el("td", {}, h.kind), el("td", {}, h.rows.toLocaleString("en")),
    el("td", {}, h.last_day ?? ""), el("td", {}, h.sources.join(", ")))));
  $("#catalogue-algorithms").tBodies[0].replaceChildren(...Object.entries(found.algorithms).map(([name, run]) =>
    el("tr", {}, el("td", {title: run.label}, name), el("td", {}, run.edition),
      el("td", {}, Object.entries(run.policy).map(([section, digest]) => `${section} ${digest.slice(0, 12)}`).join(", ")),
      el("td", {}, run.ran_at))));
}

// the regions' own figures of the last day they sent, and the nation's sums (shown where regions report here)
async function showNational() {
  const rows = await api.get("/federation/national");
  const last = rows.map((r) => r.day).sort().at(-1);
  state.national = rows.filter((r) => r.day === last);
  $("#national").hidden = !state.national.length;
  if (!state.national.length) return;
  const value = (v) => (v === null ? "—" : String(v));
  $("#national-table").tBodies[0].replaceChildren(...state.national.map((r) => el("tr", {"data-region": r.region},
    el("td", {}, r.name), el("td", {}, value(r.new_cases)), el("td", {}, value(r.new_14d)),
    el("td", {}, value(r.cumulative)), el("td", {}, `${r.counties_high} / ${r.counties_medium} / ${r.counties_low}`))));
  const nation = state.national.find((r) => r.region === NATION);
  $("#national-note").textContent = nation
    ? `${last} · ${nation.regions} 个地区 regions · ${nation.withheld} 个地区的新增数未公开 withheld their new cases`
    : "";
  await drawNationalMap(state.national.filter((r) => r.region !== NATION));
}

// each province coloured by the 14-day cases its reporting regions sent; grey where none reports
async function drawNationalMap(regions) {
  if (!echarts.getMap("china-provinces")) echarts.registerMap("china-provinces", await api.get("/public/boundaries/province"));
  const byProvince = new Map();
  for (const r of regions) {
    const province = `${r.region.slice(0, 2)}0000`;
    byProvince.set(province, (byProvince.get(province) ?? 0) + (r.new_14d ?? 0));
  }
  const data = [...byProvince].map(([name, value]) => ({name, value}));
  const chart = echarts.getInstanceByDom($("#national-map")) ?? echarts.init($("#national-map"));
  chart.setOption({
    tooltip: {trigger: "item", formatter: (p) => (p.data ? `${p.data.name}: ${p.data.value} (14 天 days)` : "")},
    visualMap: {min: 0, max: Math.max(1, ...data.map((d) => d.value)), calculable: true, left: "left", bottom: 0, itemHeight: 70,
      inRange: {color: ["#fde0c5", "#d9534f"]}, text: ["14天 14 days", ""]},
    series: [{type: "map", map: "china-provinces", nameProperty: "adcode", roam: true, data, selectedMode: false,
      label: {show: false}, itemStyle: {areaColor: NO_DATA, borderColor: "#fff", borderWidth: 0.5}}],
  });
}

// this instance's own figures: false when it has published none (a national node holds only its regions')
async function showLocal() {
  try {
    echarts.registerMap("zhejiang-counties", await api.get("/public/boundaries/county"));
    await showDay("");
    return true;
  } catch (error) {
    if (error.status !== 404) say("#public-status", refusal(error), "error");
    return error.status !== 404;
  }
}

async function start() {
  const [local, national] = await Promise.all([
    showLocal(),
    showNational().then(() => state.national.length > 0, (e) => {
      $("#national").hidden = false;
      say("#national-note", refusal(e), "error");
    }),
    showCatalogue().catch((e) => say("#catalogue-status", refusal(e), "error")),
  ]);
  if (local) return;
  $("#local-cases").hidden = true;
  $("#local-risk").hidden = Boolean(national);
  if (!national) say("#public-status", "尚未发布 Nothing published yet: the figures appear here after the first analysis.", "info");
}

$("#same-trip").addEventListener("submit", (event) => lookUp(event).catch((e) => say("#trip-status", refusal(e), "error")));
start();
