// Operations: what staff decide and check by hand — appeals, two-person manual colour changes, the audit log and
// its chain, accounts, the exchange log with other regions. Each panel shows only for the roles its endpoints admit; the
// server enforces the same (and audits a refusal).
import {$, Api, el, panel, say, withLogin} from "./common.js";

const api = new Api(sessionStorage, "shuzhi.staff");
const PANELS = {
  operator: ["appeals", "changes"],
  epidemiologist: ["appeals"],
  auditor: ["audit"],
  admin: ["accounts", "federation"],
};
const LATEST = 50; // audit records shown when no person is asked for
const PAGE = 500; // a person's audit records fetched at a time (the API's largest page)

// What the panels show, kept on window for the browser tests and the console.
const state = {appeals: null, changes: null, audit: null, chain: null, accounts: null, federation: null};
window.operations = state;

const at = (text) => (text ? text.replace("T", " ").slice(0, 19) : "");

async function start() {
  const mine = PANELS[api.role];
  if (!mine) {
    say("#app-status", `拒绝访问 Refused: this page is for operators, epidemiologists, auditors and administrators, not ${api.role}`, "error");
    return;
  }
  const loaders = {
    appeals: showAppeals, changes: showChanges, audit: showAudit, accounts: showAccounts, federation: showFederation,
  };
  for (const name of mine) $(`#${name}-panel`).hidden = false;
  await Promise.all(mine.map((name) => panel(name, loaders[name])));
}

// Appeals: pending, oldest first; uphold or reject with written reasons; an operator may also prepare a correction

async function showAppeals() {
  const pending = await api.get("/operator/appeals");
  state.appeals = pending;
  $("#appeals-table").tBodies[0].replaceChildren(...pending.map(appealRow));
  if (!pending.length) say("#appeals-status", "没有待处理的申诉 No appeal waits for a decision.");
}

function appealRow(appeal) {
  const note = el("input", {type: "text", "aria-label": "decision", placeholder: "处理意见 decision (shown to the resident)"});
  const decide = (upheld) => panel("appeals", async () => {
    if (!note.value.trim()) throw new Error("写明理由 Write the reasons: the resident reads them.");
    await api.post(`/operator/appeals/${appeal.id}/decision`, {upheld, decision: note.value.trim()});
    await showAppeals();
  });
  const uphold = button("支持 Uphold", "approve", () => decide(true));
  const reject = button("驳回 Reject", "reject", () => decide(false));
  const actions = [note, uphold, reject];
  if (api.role === "operator") actions.push(button("改码 Correct the colour", "", () => prepareChange(appeal)));
  return el("tr", {"data-id": appeal.id}, el("td", {}, String(appeal.id)), el("td", {}, String(appeal.person_key)),
    el("td", {}, at(appeal.created_at)), el("td", {}, appeal.subject), el("td", {}, appeal.text),
    el("td", {}, ...actions));
}

function button(text, kind, onClick) {
  const node = el("button", {type: "button", class: kind || undefined}, text);
  node.addEventListener("click", onClick);
  return node;
}

// Manual colour changes: one operator requests, another approves (the server refuses the requester's approval)

function prepareChange(appeal) {
  $("#change-person").value = String(appeal.person_key);
  $("#change-reason").value = `申诉 appeal #${appeal.id}: `;
  $("#change-reason").focus();
}

function setupChanges() {
  $("#change-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target;
    // the key goes as text: a 64-bit key does not survive a JavaScript number; the API reads the digits
    const body = {person_key: form.person.value.trim(), colour: form.colour.value, reason: form.reason.value.trim()};
    panel("changes", async () => {
      const change = await api.post("/operator/manual-changes", body);
      form.reset();
      await showChanges();
      say("#changes-status", `已提交 #${change.id}, waiting for a second operator's approval.`);
    });
  });
}

async function showChanges() {
  const pending = await api.get("/operator/manual-changes");
  state.changes = pending;
  $("#changes-table").tBodies[0].replaceChildren(...pending.map((change) => {
    const decide = (verb) => panel("changes", async () => {
      await api.post(`/operator/manual-changes/${change.id}/${verb}`);
      await showChanges();
      say("#changes-status", `#${change.id} ${verb === "approve" ? "已批准 approved" : "已驳回 rejected"}.`);
    });
    return el("tr", {"data-id": change.id}, el("td", {}, String(change.id)), el("td", {}, String(change.person_key)),
      el("td", {}, change.colour), el("td", {}, change.reason), el("td", {}, change.requested_by),
      el("td", {}, at(change.requested_at)),
      el("td", {}, button("批准 Approve", "approve", () => decide("approve")),
        button("驳回 Reject", "reject", () => decide("reject"))));
  }));
  if (!pending.length) say("#changes-status", "没有待复核的改码 No manual change waits for approval.");
}

// The audit log: the latest records, or every record about one person; the hash chain verified on request

function setupAudit() {
  $("#audit-form").addEventListener("submit", (event) => {
    event.preventDefault();
    panel("audit", showAudit);
  });
  $("#audit-verify").addEventListener("click", () => panel("audit", verifyChain));
}

async function verifyChain() {
  const report = await api.get("/operator/audit/verify");
  state.chain = report;
  if (report.ok) {
    say("#audit-chain", `链完整 The chain is intact: ${report.records} records, head #${report.head_seq} ${(report.head_hash || "").slice(0, 16)}…`);
  } else {
    say("#audit-chain", `链已损坏 The chain is BROKEN at #${report.bad_seq}: ${report.problem}`, "error");
  }
  return report;
}

async function showAudit() {
  const person = $("#audit-person").value.trim();
  $("#audit-more").hidden = true;
  if (person) {
    state.audit = [];
    return morePersonRecords(person, 0);
  }
  const head = (await verifyChain()).head_seq || 0;
  state.audit = await api.get(`/operator/audit?after_seq=${Math.max(0, head - LATEST)}&limit=${LATEST}`);
  drawAudit(state.audit.slice().reverse()); // the latest first
  if (!state.audit.length) say("#audit-status", "审计日志为空 The log is empty.");
}

// a person's records in chain order, a page at a time: "more" fetches the page after the last one shown
async function morePersonRecords(person, afterSeq) {
  const page = await api.get(`/operator/audit?person_key=${encodeURIComponent(person)}&after_seq=${afterSeq}&limit=${PAGE}`);
  state.audit = state.audit.concat(page);
  drawAudit(state.audit);
  const more = $("#audit-more");
  more.hidden = page.length < PAGE;
  more.onclick = () => panel("audit", () => morePersonRecords(person, page.at(-1).seq));
  if (!state.audit.length) say("#audit-status", "没有关于此人的记录 No record about this person.");
}

function drawAudit(records) {
  $("#audit-table").tBodies[0].replaceChildren(...records.map((r) => el("tr", {"data-seq": r.seq},
    el("td", {}, String(r.seq)), el("td", {}, at(r.at)), el("td", {}, `${r.actor}${r.role ? ` (${r.role})` : ""}`),
    el("td", {}, r.action), el("td", {}, r.purpose), el("td", {}, r.person_key === null ? "" : String(r.person_key)),
    el("td", {class: "muted"}, JSON.stringify(r.detail)))));
}

// Accounts: create one (a resident's from their ID number, which the API pseudonymises), (de)activate one

const ROLES = ["operator", "epidemiologist", "checkpoint", "enterprise", "auditor", "admin", "resident"];

function setupAccounts() {
  $("#account-role").replaceChildren(...ROLES.map((role) => el("option", {value: role}, role)));
  $("#account-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target;
    const body = {username: form.username.value.trim(), password: form.password.value, role: form.role.value};
    if (form.id_number.value.trim()) body.id_number = form.id_number.value.trim().toUpperCase();
    if (form.enterprise_code.value.trim()) body.enterprise_code = form.enterprise_code.value.trim();
    panel("accounts", async () => {
      const account = await api.post("/admin/accounts", body);
      form.reset();
      await showAccounts();
      say("#accounts-status", `已创建 Created #${account.id} ${account.username} (${account.role}).`);
    });
  });
}

async function showAccounts() {
  const accounts = await api.get("/admin/accounts");
  state.accounts = accounts;
  $("#accounts-table").tBodies[0].replaceChildren(...accounts.map((a) => {
    const toggle = button(a.active ? "停用 Deactivate" : "启用 Reactivate", a.active ? "reject" : "approve",
      () => panel("accounts", async () => {
        await api.send("PATCH", `/admin/accounts/${a.id}`, {active: !a.active});
        await showAccounts();
      }));
    return el("tr", {"data-id": a.id, "data-active": String(a.active)}, el("td", {}, String(a.id)),
      el("td", {}, a.username), el("td", {}, a.role), el("td", {}, a.enterprise_code || ""),
      el("td", {}, at(a.created_at)), el("td", {}, a.active ? "启用 active " : "停用 inactive ", toggle),
      el("td", {}, resetForm(a)));
  }));
}

// a forgotten password: the administrator sets a new one (the account's tokens end, a login lock is lifted)
function resetForm(account) {
  const input = el("input", {type: "password", autocomplete: "new-password", minlength: 10, maxlength: 256,
    required: true, "aria-label": `新密码 New password for ${account.username}`});
  const form = el("form", {class: "inline"}, input, el("button", {type: "submit"}, "重设 Reset"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    panel("accounts", async () => {
      await api.send("PATCH", `/admin/accounts/${account.id}`, {password: input.value});
      form.reset();
      say("#accounts-status", `已重设 ${account.username}: a new password; their logins have ended.`, "ok");
    });
  });
  return form;
}

// The exchange log: every signed message to and from other regions, with what it landed or why it was refused

async function showFederation() {
  const log = await api.get("/federation/log?limit=200");
  state.federation = log;
  $("#federation-table").tBodies[0].replaceChildren(...log.map((m) => el("tr", {"data-status": m.status},
    el("td", {}, m.direction === "in" ? "收 in" : "发 out"), el("td", {}, m.peer), el("td", {}, m.kind),
    el("td", {}, String(m.seq)), el("td", {}, at(m.sent_at)), el("td", {}, m.status),
    el("td", {}, m.reason || outcome(m.outcome)))));
  if (!log.length) say("#federation-status", "尚无交换 No message exchanged yet.");
}

// {landed: {table: rows}, rejected_rows: [...]} as "received_cases 3, received_contacts 5, 1 row refused"
function outcome(result) {
  const landed = Object.entries(result?.landed || {}).map(([table, rows]) => `${table} ${rows}`);
  const refused = (result?.rejected_rows || []).length;
  return [...landed, refused ? `${refused} row${refused > 1 ? "s" : ""} refused` : ""].filter(Boolean).join(", ");
}

setupChanges();
setupAudit();
setupAccounts();
withLogin(api, "业务办理 Operations — staff login", start);
