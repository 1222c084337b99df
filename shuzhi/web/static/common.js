// What every page shares: the API client that carries the bearer token, the login form, DOM helpers.
// Pages never build HTML from data: text goes in with textContent, so nothing from the API can run as code.

export class ApiError extends Error {
  constructor(status, detail) {
    super(`${status}: ${detail}`);
    this.status = status;
    this.detail = detail;
  }
}

export class Api {
  // storage: sessionStorage for staff (a shift), localStorage for a resident's own phone
  constructor(storage, name) {
    this.storage = storage;
    this.name = name;
  }

  get token() { return this.storage.getItem(`${this.name}.token`); }
  get role() { return this.storage.getItem(`${this.name}.role`); }

  async login(username, password) {
    return this.keep(await this.send("POST", "/auth/token", new URLSearchParams({username, password})));
  }

  // a new password ends every older token: the answer's fresh one is kept for this page
  async changePassword(current, next) {
    return this.keep(await this.post("/auth/password", {current_password: current, new_password: next}));
  }

  keep(answer) {
    this.storage.setItem(`${this.name}.token`, answer.access_token);
    this.storage.setItem(`${this.name}.role`, answer.role);
    return answer;
  }

  logout() {
    this.storage.removeItem(`${this.name}.token`);
    this.storage.removeItem(`${this.name}.role`);
  }

  get(path) { return this.send("GET", path); }

  // a file the API answers (a CSV...), saved by the browser under the name the API gives it
  async download(path) {
    const response = await fetch(path, {headers: {Authorization: `Bearer ${this.token}`}});
    if (!response.ok) {
      const answer = parseJson(await response.text());
      throw new ApiError(response.status, describe(answer.detail) || response.statusText);
    }
    const name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") ?? "")?.[1] ?? "download";
    const link = el("a", {href: URL.createObjectURL(await response.blob()), download: name});
    link.click();
    URL.revokeObjectURL(link.href);
  }
  post(path, body) { return this.send("POST", path, body); }

  async send(method, path, body) {
    const headers = {Accept: "application/json"};
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined && !(body instanceof URLSearchParams)) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(body);
    }
    const response = await fetch(path, {method, headers, body});
    const answer = parseJson(await response.text());
    if (!response.ok) throw new ApiError(response.status, describe(answer.detail) || response.statusText);
    return answer;
  }
}

// Person keys are 64-bit integers: beyond 2^53 a JavaScript number rounds them, so such an integer keeps its
// exact digits, as text (JSON.parse's source text access).
export function parseJson(text) {
  try {
    return JSON.parse(text, (key, value, context) =>
      (Number.isInteger(value) && !Number.isSafeInteger(value) && context?.source ? context.source : value));
  } catch {
    return {};
  }
}

function describe(detail) {
  if (Array.isArray(detail)) return detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
  return detail;
}

// An element with attributes and children (strings become text nodes).
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value);
  }
  node.append(...children.filter((c) => c !== undefined && c !== null));
  return node;
}

export const $ = (selector) => document.querySelector(selector);

export function say(selector, text, kind = "info") {
  const node = $(selector);
  node.textContent = text;
  node.dataset.kind = kind;
}

// The login form, in the page's <section id="login-panel">.
function loginForm(title) {
  const form = el("form", {id: "login"},
    el("h2", {}, title),
    el("label", {for: "username"}, "用户名 Username"),
    el("input", {id: "username", name: "username", autocomplete: "username", required: true}),
    el("label", {for: "password"}, "密码 Password"),
    el("input", {id: "password", name: "password", type: "password", autocomplete: "current-password", required: true}),
    el("button", {class: "primary", type: "submit"}, "登录 Log in"),
    el("p", {id: "login-status", class: "status"}));
  $("#login-panel").append(form);
  return form;
}

// Log in through the page's login panel; `start` runs once logged in (and at load with a stored token).
export function withLogin(api, title, start) {
  const form = loginForm(title);
  const begin = async () => {
    $("#login-panel").hidden = true;
    $("#app").hidden = false;
    $("#who").textContent = `${api.role}`;
    try {
      await start();
    } catch (error) {
      if (error.status === 401) return restart(api, "Your login has expired: log in again. 登录已过期");
      say("#app-status", refusal(error), "error");
    }
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api.login(form.username.value, form.password.value);
      form.password.value = "";
      await begin();
    } catch (error) {
      say("#login-status", `登录失败 Login failed — ${error.detail || error.message}`, "error");
    }
  });
  $("#logout").addEventListener("click", () => restart(api, ""));
  passwordDialog(api);
  if (api.token) begin();
}

// "修改密码 Password" in the header: the current password, the new one twice
function passwordDialog(api) {
  const field = (id, label, autocomplete) => [el("label", {for: id}, label),
    el("input", {id, type: "password", autocomplete, required: true, minlength: id === "password-current" ? 1 : 10, maxlength: 256})];
  const form = el("form", {id: "password-form", method: "dialog"},
    el("h2", {}, "修改密码 Change password"),
    ...field("password-current", "当前密码 Current password", "current-password"),
    ...field("password-new", "新密码 New password (10 characters or more)", "new-password"),
    ...field("password-again", "再输一次 New password again", "new-password"),
    el("button", {class: "primary", type: "submit"}, "修改 Change"),
    el("button", {type: "button", id: "password-cancel"}, "取消 Cancel"),
    el("p", {id: "password-status", class: "status"}));
  const dialog = el("dialog", {id: "password-dialog"}, form);
  document.body.append(dialog);
  const open = el("button", {id: "change-password", type: "button"}, "修改密码 Password");
  $("#logout").before(open);
  open.addEventListener("click", () => { form.reset(); say("#password-status", ""); dialog.showModal(); });
  $("#password-cancel").addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (form["password-new"].value !== form["password-again"].value) {
      return say("#password-status", "两次输入的新密码不同 The new passwords differ", "error");
    }
    try {
      await api.changePassword(form["password-current"].value, form["password-new"].value);
      form.reset();
      say("#password-status", "已修改 Changed: your other logins have ended", "ok");
    } catch (error) {
      say("#password-status", refusal(error), "error");
    }
  });
}

// Run one panel's loader; a failure (not computed yet, refused) is shown in that panel's #<name>-status only.
export async function panel(name, load) {
  try {
    say(`#${name}-status`, "");
    await load();
  } catch (error) {
    if (error.status === 401) throw error;
    say(`#${name}-status`, refusal(error), "error");
  }
}

export function refusal(error) {
  if (error.status === 403) return `拒绝访问 Refused: ${error.detail}`;
  return `${error.detail || error.message}`;
}

function restart(api, message) {
  api.logout();
  $("#app").hidden = true;
  $("#login-panel").hidden = false;
  say("#login-status", message, "error");
}

export const COLOUR_NAMES = {green: "绿码 Green", yellow: "黄码 Yellow", red: "红码 Red"};

export function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
