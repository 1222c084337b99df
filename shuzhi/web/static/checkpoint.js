// The checkpoint page: paste or scan a code, see a full-screen green / yellow / red verdict with its reason.
// Every code is verified on this device against the trust list cached in localStorage (verify.js), so the
// page works offline; when online the scan is also posted to the server, which verifies it again, logs the
// passage and has the last word.
import {$, Api, COLOUR_NAMES, say, withLogin} from "./common.js";
import {importTrust, verifyPayload} from "./verify.js";

const api = new Api(sessionStorage, "shuzhi.checkpoint");
const TRUST_CACHE = "shuzhi.trust-list";
const CODE_CACHE = "shuzhi.checkpoint-code";
const state = {trust: null, fetchedAt: null, last: null};
window.checkpoint = state;

async function start() {
  $("#checkpoint-code").value = localStorage.getItem(CODE_CACHE) ?? $("#checkpoint-code").value;
  await loadTrust();
  showNetwork();
}

// The trust list: fetched when online, else the cached copy.
async function loadTrust() {
  try {
    const response = await fetch("/public/trust-list", {cache: "no-store"});
    if (!response.ok) throw new Error(`${response.status}`);
    const list = await response.json();
    localStorage.setItem(TRUST_CACHE, JSON.stringify({fetchedAt: new Date().toISOString(), list}));
  } catch {
    // offline or unreachable: keep the cached list
  }
  const cached = JSON.parse(localStorage.getItem(TRUST_CACHE) ?? "null");
  if (!cached) return say("#trust-status", "没有信任列表 No trust list yet: connect once to fetch it.", "error");
  state.trust = await importTrust(cached.list);
  state.fetchedAt = cached.fetchedAt;
  say("#trust-status", `${state.trust.keys.size} 个密钥 keys of ${cached.list.issuer}, ` +
    `${cached.list.revoked_keys.length + cached.list.revoked_tokens.length} revocations · ` +
    `更新于 fetched ${new Date(cached.fetchedAt).toLocaleString()}`, "ok");
}

async function check(payload) {
  if (!payload.trim()) return;
  localStorage.setItem(CODE_CACHE, $("#checkpoint-code").value);
  const local = state.trust
    ? await verifyPayload(payload, state.trust)
    : {valid: false, decided: false, reason: "no_trust_list", detail: "no trust list on this device"};
  const verdict = navigator.onLine && api.token ? await checkOnline(payload, local) : local;
  show({...verdict, source: verdict.source ?? "device"});
}

// The server's verdict (passage logged); the device's when the server cannot be reached.
async function checkOnline(payload, local) {
  const code = $("#checkpoint-code").value;
  const body = {checkpoint_code: code, payload: payload.trim(), direction: $("#direction").value};
  try {
    const passage = await api.post("/checkpoint/passages", body);
    showOccupancy(body.checkpoint_code); // not awaited: the verdict comes first
    const [reason, ...detail] = passage.reason.split(": ");
    const colour = passage.valid ? (COLOUR_NAMES[detail[0]] ? detail[0] : local.colour ?? "green") : null;
    return {valid: passage.valid, reason: passage.valid ? null : reason, detail: detail.join(": "), colour,
      kind: local.kind, source: "server", passage: passage.id};
  } catch (error) {
    if (error.status === 401) say("#app-status", "登录已过期 Login expired: scans are verified on this device only.", "error");
    return local;
  }
}

// The venue's live headcount against its crowd limit (a registered venue only; nothing for a road checkpoint).
const OCCUPANCY_STATES = {normal: "正常 normal", warning: "预警 warning: limit expected soon", limit: "已达限额 at limit"};
async function showOccupancy(code) {
  let text = "";
  let kind = "info";
  try {
    const v = await api.get(`/realtime/venues/${encodeURIComponent(code)}`);
    text = `在场 inside ${v.occupancy}${v.limit === null ? "" : ` / 限额 limit ${v.limit}`} · ` +
      `预测 forecast ${v.forecast} · ${OCCUPANCY_STATES[v.state] ?? v.state}`;
    kind = v.state === "normal" ? "ok" : "error";
  } catch {
    // not a registered venue, or offline: no occupancy to show
  }
  say("#occupancy", text, kind);
  $("#result-occupancy").textContent = text;
}

function show(verdict) {
  state.last = verdict;
  const colour = verdict.valid ? verdict.colour ?? "yellow" : "red";
  const result = $("#result");
  Object.assign(result.dataset, {colour, valid: String(verdict.valid), reason: verdict.reason ?? "",
    source: verdict.source});
  $("#result-verdict").textContent = verdict.valid ? `${COLOUR_NAMES[colour] ?? colour}${colour === "green" ? " ✓ 通行 pass" : ""}`
    : "✗ 无效 INVALID";
  $("#result-reason").textContent = verdict.valid
    ? (verdict.kind === "hc" || !verdict.kind ? "健康码有效 valid health code" : `有效证书 valid certificate (${verdict.kind})`)
    : `${verdict.reason}${verdict.detail ? `: ${verdict.detail}` : ""}`;
  $("#result-source").textContent = verdict.source === "server"
    ? `服务器核验，已登记 verified by the server, passage #${verdict.passage} logged`
    : "本机离线核验 verified on this device (offline)";
  if (verdict.source !== "server") $("#result-occupancy").textContent = "";
  result.hidden = false;
  $("#result-close").focus();
}

function next() {
  $("#result").hidden = true;
  $("#payload").value = "";
  $("#payload").focus();
}

function showNetwork() {
  $("#network").textContent = navigator.onLine ? "在线 online" : "离线 offline";
}

// The camera, where the browser can read QR codes itself (BarcodeDetector); pasting always works.
async function scanWithCamera() {
  const video = $("#camera");
  const detector = new BarcodeDetector({formats: ["qr_code"]});
  const stream = await navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}});
  video.srcObject = stream;
  video.hidden = false;
  await video.play();
  const stop = () => {
    stream.getTracks().forEach((track) => track.stop());
    video.hidden = true;
  };
  const look = async () => {
    const [code] = await detector.detect(video).catch(() => []);
    if (!code) return requestAnimationFrame(look);
    stop();
    $("#payload").value = code.rawValue;
    await check(code.rawValue);
  };
  look();
}

function bind() {
  $("#verify").addEventListener("click", () => check($("#payload").value));
  $("#payload").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      check($("#payload").value);
    }
  });
  $("#result-close").addEventListener("click", next);
  $("#refresh-trust").addEventListener("click", loadTrust);
  window.addEventListener("online", () => (showNetwork(), loadTrust()));
  window.addEventListener("offline", showNetwork);
  const camera = "BarcodeDetector" in window && navigator.mediaDevices?.getUserMedia;
  $("#scan").hidden = !camera;
  $("#scan").addEventListener("click", () => scanWithCamera().catch((e) => say("#camera-status", e.message, "error")));
  if (!camera) say("#camera-status", "此浏览器不能用摄像头读码 This browser cannot read QR codes: paste the code.");
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("sw.js").catch(() => {});
}

bind();
withLogin(api, "卡口登录 Checkpoint login", start);
