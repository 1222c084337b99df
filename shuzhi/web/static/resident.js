// The resident's page (phone-sized): the signed health code as a QR with why it has its colour, the history,
// the health and trip declarations (GB/T 38963) and appeals. A fresh token is fetched before the last expires.
import {$, Api, COLOUR_NAMES, el, say, withLogin} from "./common.js";

const api = new Api(localStorage, "shuzhi.resident");
const SYMPTOMS = {fever: "发热 fever", cough: "咳嗽 cough", sore_throat: "咽痛 sore throat",
  shortness_of_breath: "气促 short of breath", fatigue: "乏力 fatigue", diarrhoea: "腹泻 diarrhoea"};
const REFRESH_BEFORE_MS = 30_000;
let refreshTimer = null;
let formsBound = false;
window.resident = {code: null};

async function start() {
  if (!formsBound) bindForms();
  formsBound = true;
  await showCode();
  await showAppeals();
}

// how a change of colour came about, where the rule's name alone does not say it
const HISTORY_SOURCES = {manual: "人工更正 manual", declared: "依据您的申报 from your declaration"};

async function showCode() {
  const code = await api.post("/resident/code/token");
  window.resident.code = code;
  $("#code-card").className = `card code-card ${code.colour}`;
  $("#qr").src = code.qr_svg;
  $("#colour-name").textContent = COLOUR_NAMES[code.colour];
  $("#reason-zh").textContent = code.reason_zh;
  $("#reason-en").textContent = code.reason_en;
  $("#valid-until").textContent = code.valid_until ?? "—";
  $("#turns-green").textContent = code.turns_green_zh ? `${code.turns_green_zh} / ${code.turns_green_en}` : "—";
  $("#followup").textContent = code.followup ? `${code.followup.reason_zh} / ${code.followup.reason_en}` : "—";
  const checks = code.followup?.checks_per_day;  // under a measure that asks for daily health checks
  $("#checks-today").textContent = checks
    ? `今日已申报 ${code.followup.declared_today}/${checks} 次 · Declared today: ${code.followup.declared_today} of ${checks}`
    : "";
  $("#evidence").textContent = code.evidence ?? "—";
  const fromApp = code.from_app_declaration ? " · 依据您刚才的申报 from what you just declared" : "";
  $("#rule").textContent = `${code.rule}${code.day ? ` (${code.day})` : ""}${fromApp}`;
  $("#payload-text").value = code.payload;
  const expires = new Date(code.expires_at);
  $("#token-expiry").textContent = `码有效至 code valid until ${expires.toLocaleTimeString()} · 自动刷新 refreshes itself`;
  $("#history").replaceChildren(...code.history.map((change) => el("li", {},
    `${change.day} · ${COLOUR_NAMES[change.colour]} · ${HISTORY_SOURCES[change.source] ?? change.rule}`)));
  $("#subject").value ||= code.rule;
  clearTimeout(refreshTimer);
  const wait = Math.max(expires - Date.now() - REFRESH_BEFORE_MS, 10_000);
  refreshTimer = setTimeout(() => showCode().catch((e) => say("#app-status", e.detail ?? e.message, "error")), wait);
}

async function showAppeals() {
  const appeals = await api.get("/resident/appeals");
  $("#appeals").replaceChildren(...appeals.map((a) => el("li", {},
    `${a.created_at.slice(0, 10)} · ${a.subject} · ${a.status}${a.decision ? ` — ${a.decision}` : ""}`)));
}

function bindForms() {
  $("#symptoms").replaceChildren(...Object.entries(SYMPTOMS).map(([value, name]) =>
    el("label", {}, el("input", {type: "checkbox", name: "symptoms", value}), name)));
  submit("#health-form", "#health-status", "/resident/declarations/health", (form) => ({
    region_code: form.region_code.value.trim(),
    temperature: Number(form.temperature.value),
    symptoms: [...form.querySelectorAll("[name=symptoms]:checked")].map((box) => box.value),
    contact_history: form.contact_history.checked,
    visited_regions: form.visited_regions.value.split(/[,\s，]+/).filter(Boolean),
  }), {after: showCode});  // the checks made today
  submit("#trip-form", "#trip-status", "/resident/declarations/trip", (form) => ({
    mode: form.mode.value, trip_no: form.trip_no.value, travel_date: form.travel_date.value,
    origin: form.origin.value, destination: form.destination.value,
    carriage: form.carriage.value || null, seat: form.seat.value || null,
  }));
  submit("#appeal-form", "#appeal-status", "/resident/appeals",
    (form) => ({subject: form.subject.value, text: form.text.value}), {after: showAppeals});
  submit("#checkin-form", "#checkin-status", "/realtime/check-ins",
    (form) => ({venue_code: form.venue_code.value.trim(), direction: form.direction.value}),
    {said: (done) => `已登记 ${done.direction === "in" ? "进 In" : "出 Out"}: ${done.venue_name} (${done.venue_code})`});
}

// POST a form's body; say what happened next to it.
function submit(formSelector, statusSelector, path, body,
                {after = async () => {}, said = (saved) => `已提交 Submitted (#${saved.id})`} = {}) {
  const form = $(formSelector);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const saved = await api.post(path, body(form));
      say(statusSelector, said(saved), "ok");
      await after();
    } catch (error) {
      say(statusSelector, `未提交 Not submitted — ${error.detail ?? error.message}`, "error");
    }
  });
}

withLogin(api, "居民登录 Resident login", start);
