// Live crowd alerts on the dashboard: the history from /realtime/alerts, then new alerts as server-sent events
// from /realtime/alerts/stream, and the fullest venues from /realtime/occupancy. The stream is read with fetch
// (EventSource cannot send the bearer token) and resumed from the last alert id whenever it ends or drops.
import {$, el, say} from "./common.js";

const KINDS = {warning: "预警 Warning", limit: "超限 At limit", clear: "解除 Cleared"};
const STATES = {normal: "正常 normal", warning: "预警 warning", limit: "超限 at limit"};
const STREAM_SECONDS = 300;
const RECONNECT_MS = 1000;
const REFRESH_MS = 5000;
const SHOWN = 100;

export async function startAlerts(api, state) {
  const live = {alerts: [], connected: false, lastId: 0, streams: 0, venues: []};
  state.live = live;
  const history = await api.get(`/realtime/alerts?limit=${SHOWN}`);
  for (const alert of history.alerts.reverse()) show(live, alert, null);
  live.lastId = history.last_id;
  await refresh(api, live);
  follow(api, live); // runs for the life of the page
  setInterval(() => refresh(api, live).catch(() => {}), REFRESH_MS);
}

async function follow(api, live) {
  for (;;) {
    try {
      const response = await fetch(`/realtime/alerts/stream?after=${live.lastId}&seconds=${STREAM_SECONDS}`, {
        headers: {Authorization: `Bearer ${api.token}`, Accept: "text/event-stream"}, cache: "no-store",
      });
      if (response.status === 401 || response.status === 403) {
        return say("#alerts-status", `实时预警不可用 Live alerts unavailable (${response.status})`, "error");
      }
      if (response.ok) await read(api, live, response);
    } catch (error) {
      say("#alerts-status", `连接中断，重连中 Reconnecting: ${error.message}`, "error");
    }
    live.connected = false;
    await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
  }
}

async function read(api, live, response) {
  live.connected = true;
  live.streams += 1;
  say("#alerts-status", "实时连接 Live", "ok");
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) return;
    buffer += value;
    for (let cut = buffer.indexOf("\n\n"); cut >= 0; cut = buffer.indexOf("\n\n")) {
      const alert = parse(buffer.slice(0, cut));
      buffer = buffer.slice(cut + 2);
      if (alert && alert.id > live.lastId) {
        live.lastId = alert.id;
        show(live, alert, Date.now());
        refresh(api, live).catch(() => {});
      }
    }
  }
}

// One server-sent event block: `event: alert` with JSON data; comments and `retry:` are skipped.
function parse(block) {
  let event = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
  }
  return event === "alert" && data.length ? JSON.parse(data.join("\n")) : null;
}

function show(live, alert, receivedAt) {
  live.alerts.push({...alert, receivedAt});
  const at = new Date(alert.at).toLocaleTimeString("zh-CN", {hour12: false});
  const item = el("li", {"data-kind": alert.kind, "data-id": alert.id},
    el("strong", {}, KINDS[alert.kind] ?? alert.kind), ` ${at} ${alert.venue_name} (${alert.venue_code}) · `,
    `在场 inside ${alert.occupancy} / 限额 limit ${alert.limit} · 预测 forecast ${alert.forecast}`,
    el("div", {class: "muted"}, alert.reasons.join(" · ")));
  const list = $("#alerts-list");
  list.prepend(item);
  while (list.children.length > SHOWN) list.lastChild.remove();
}

async function refresh(api, live) {
  const {venues} = await api.get("/realtime/occupancy?limit=20");
  live.venues = venues;
  $("#occupancy-table tbody").replaceChildren(...venues.map((v) =>
    el("tr", {"data-state": v.state},
      el("td", {}, `${v.name} (${v.venue_code})`), el("td", {}, String(v.occupancy)),
      el("td", {}, v.limit === null ? "—" : String(v.limit)), el("td", {}, String(v.forecast)),
      el("td", {}, STATES[v.state] ?? v.state))));
}
