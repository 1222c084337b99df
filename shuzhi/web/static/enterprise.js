// An enterprise's return-to-work page: apply (date, staff, the measures the policy requires) and follow the
// applications, each with its risk class, the reasons for it and the operator's decision.
import {$, Api, el, refusal, say, withLogin} from "./common.js";

const api = new Api(sessionStorage, "shuzhi.enterprise");
const CLASSES = {low: "低风险 low", medium: "中风险 medium", high: "高风险 high"};
const STATUSES = {pending: "待审核 pending", approved: "已批准 approved", rejected: "未批准 rejected"};
window.enterprise = {applications: null};
let bound = false;

async function start() {
  if (!bound) {
    const rules = await api.get("/enterprise/measures");
    $("#measures").append(...rules.required_measures.map((m) => el("label", {},
      el("input", {type: "checkbox", name: "measure", value: m}), ` ${m}`)));
    $("#application-form").addEventListener("submit", (event) => {
      event.preventDefault();
      submit().catch((error) => say("#application-status", refusal(error), "error"));
    });
    bound = true;
  }
  await showApplications();
}

async function submit() {
  const form = $("#application-form");
  const measures = [...form.querySelectorAll("input[name=measure]:checked")].map((box) => box.value);
  const filed = await api.post("/enterprise/applications", {
    planned_date: form.planned_date.value, staff_planned: Number(form.staff_planned.value), measures,
  });
  say("#application-status", `已提交 Filed: ${CLASSES[filed.risk_class]} — ${filed.risk_reasons.join("; ")}`);
  await showApplications();
}

async function showApplications() {
  const applications = await api.get("/enterprise/applications");
  window.enterprise.applications = applications;
  $("#applications").replaceChildren(...applications.map((a) => el("li", {class: `application ${a.status}`},
    el("strong", {}, `#${a.id} ${a.planned_date} · ${a.staff_planned} 人 staff · ${STATUSES[a.status]}`),
    el("div", {}, `${CLASSES[a.risk_class]}: ${a.risk_reasons.join("; ")}`),
    a.decision ? el("div", {class: "muted"}, `审核意见 Decision: ${a.decision}`) : null)));
}

withLogin(api, "企业登录 Enterprise login", start);
