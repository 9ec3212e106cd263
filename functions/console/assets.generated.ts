// Written by `npm run console:assets` from functions/console/client/pages/*.ts: edit those, then run it.
export const consoleScripts: Record<string, string> = {
  "agent": `// functions/console/client/shared/session.ts
var storageKey = "agentry.console.session";
function readSession() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(storageKey) ?? "null");
    return saved && typeof saved.credential === "string" ? saved : null;
  } catch {
    return null;
  }
}
function clearSession() {
  sessionStorage.removeItem(storageKey);
}

// functions/console/client/shared/settings.ts
var settings = {
  apiBase: document.body.dataset.apiBase ?? "",
  consoleBase: document.body.dataset.consoleBase ?? "",
  signedIn: document.body.dataset.signedIn !== "no"
};
var consoleUrl = (path) => settings.consoleBase + path;
function signInUrl() {
  const back = location.pathname + location.search;
  return \`\${consoleUrl("/sign-in")}?next=\${encodeURIComponent(back)}\`;
}

// functions/console/client/shared/api.ts
var ApiFailure = class extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
  status;
  code;
};
function authHeaders(session = readSession()) {
  if (!session) return {};
  const headers = { authorization: \`Bearer \${session.credential}\` };
  if (session.orgId) headers["x-org-id"] = session.orgId;
  return headers;
}
async function api(method, path, body) {
  const response = await apiFetch(method, path, body);
  if (response.status === 204) return void 0;
  const parsed = await response.json();
  return parsed.data;
}
async function apiFetch(method, path, body, extraHeaders = {}) {
  const headers = { ...authHeaders(), ...extraHeaders };
  if (body !== void 0) headers["content-type"] = "application/json";
  const response = await fetch(settings.apiBase + path, { method, headers, body: body === void 0 ? void 0 : JSON.stringify(body) });
  if (response.ok) return response;
  const failure = await failureOf(response);
  if (response.status === 401 && settings.signedIn) {
    clearSession();
    location.assign(signInUrl());
  }
  throw failure;
}
async function failureOf(response) {
  try {
    const { error } = await response.json();
    return new ApiFailure(response.status, error.code, error.message);
  } catch {
    return new ApiFailure(response.status, "unknown", \`The API answered \${response.status}.\`);
  }
}
function allows(me, scope) {
  const access = scope.split(":")[1];
  return me.scopes.some((held) => held === scope || held === "*" || held === \`*:\${access}\`);
}

// functions/console/client/shared/dom.ts
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else if (value !== false && value !== null && value !== void 0) element.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child !== null && child !== void 0 && child !== false) element.append(typeof child === "number" ? String(child) : child);
  }
  return element;
}
function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(\`The page has no #\${id}.\`);
  return element;
}
function announce(message) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  setTimeout(() => {
    region.textContent = message;
  }, 50);
}
function usd(amount) {
  if (amount === null || amount === void 0) return "unknown";
  return \`$\${amount < 0.01 ? amount.toFixed(6) : amount.toFixed(4)}\`;
}
function errorBox(error) {
  return h("p", { class: "error", role: "alert" }, error instanceof Error ? error.message : String(error));
}

// functions/console/client/shared/page.ts
function startPage(run) {
  if (!readSession()) {
    location.replace(signInUrl());
    return;
  }
  void (async () => {
    const main = document.getElementById("main");
    try {
      const me = await api("GET", "/me");
      const can = (scope) => allows(me, scope);
      const who = document.getElementById("who-org");
      if (who) who.textContent = me.user ? \`\${me.org.name} · \${me.user.role}\` : me.org.name;
      document.getElementById("sign-out")?.addEventListener("click", () => {
        clearSession();
        location.assign(consoleUrl("/sign-in"));
      });
      for (const item of document.querySelectorAll("[data-reads]")) item.hidden = !can(item.dataset.reads);
      revealPermitted(can);
      await run({ me, can });
    } catch (error) {
      main.append(errorBox(error));
    } finally {
      main.removeAttribute("data-pending");
    }
  })();
}
function revealPermitted(can, root = document) {
  for (const element of root.querySelectorAll("[data-requires]")) element.hidden = !can(element.dataset.requires);
}

// functions/console/client/shared/sse.ts
async function* readEvents(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (; ; ) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true }).replace(/\\r\\n?/g, "\\n");
    let end = buffer.indexOf("\\n\\n");
    while (end !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf("\\n\\n");
      let event = "message";
      const data = [];
      for (const line of block.split("\\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length === 0) continue;
      try {
        yield { event, data: JSON.parse(data.join("\\n")) };
      } catch {
        yield { event, data: data.join("\\n") };
      }
    }
  }
}

// functions/console/client/pages/agent.ts
var agentId = byId("agent").dataset.agentId;
var form = byId("agent-form");
var log = byId("chat-log");
var chatForm = byId("chat-form");
var messageBox = byId("chat-message");
var sendButton = byId("chat-send");
startPage(async ({ can }) => {
  let agent;
  try {
    agent = await api("GET", \`/agents/\${encodeURIComponent(agentId)}\`);
  } catch (error) {
    form.replaceChildren(errorBox(error));
    return;
  }
  show(agent);
  byId("agent-fields").disabled = !can("agents:write");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = new FormData(form);
    const text = (name) => String(values.get(name) ?? "").trim();
    const number = (name) => text(name) === "" ? null : Number(text(name));
    const errorLine = byId("agent-error");
    errorLine.hidden = true;
    try {
      agent = await api("PATCH", \`/agents/\${agent.id}\`, {
        name: text("name"),
        description: text("description") || null,
        instructions: String(values.get("instructions") ?? ""),
        model: text("model") || null,
        temperature: number("temperature"),
        max_output_tokens: number("max_output_tokens"),
        status: text("status")
      });
      show(agent);
      announce("Agent saved.");
    } catch (error) {
      errorLine.textContent = error instanceof Error ? error.message : String(error);
      errorLine.hidden = false;
    }
  });
  let conversationId;
  chatForm.addEventListener("submit", (event) => {
    event.preventDefault();
    void send();
  });
  messageBox.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      chatForm.requestSubmit();
    }
  });
  async function send() {
    const message = messageBox.value.trim();
    if (!message || sendButton.disabled) return;
    messageBox.value = "";
    sendButton.disabled = true;
    log.append(h("div", { class: "chat-message user" }, message));
    const text = h("div", { class: "reply-text" });
    const meta = h("div", { class: "meta" }, "Writing…");
    const bubble = h("div", { class: "chat-message assistant", "aria-busy": "true" }, text, meta);
    log.append(bubble);
    try {
      const response = await apiFetch(
        "POST",
        \`/chat/\${agentId}\`,
        { message, stream: true, ...conversationId ? { conversation_id: conversationId } : {} },
        { accept: "text/event-stream" }
      );
      for await (const { event, data } of readEvents(response.body)) {
        if (event === "message.start") conversationId = data.conversation_id;
        else if (event === "message.delta") {
          text.append(data.text);
          log.scrollTop = log.scrollHeight;
        } else if (event === "message.end") {
          const reply = data;
          meta.textContent = usageLine(reply);
          announce(\`Reply: \${reply.reply}\`);
        } else if (event === "error") {
          bubble.append(errorBox(data.message));
          meta.textContent = "";
        }
      }
    } catch (error) {
      bubble.append(errorBox(error));
      meta.textContent = "";
    } finally {
      bubble.removeAttribute("aria-busy");
      sendButton.disabled = false;
      messageBox.focus();
    }
  }
});
function usageLine(reply) {
  const u = reply.usage;
  const tokens = \`\${u.prompt_tokens} + \${u.completion_tokens} = \${u.total_tokens} tokens\${u.estimated ? " (estimated)" : ""}\`;
  return [reply.model, tokens, usd(u.cost_usd), \`\${reply.latency_ms} ms\`, reply.status === "incomplete" ? "incomplete" : ""].filter(Boolean).join(" · ");
}
function show(agent) {
  byId("agent-name").textContent = agent.name;
  document.title = \`\${agent.name} · Agentry console\`;
  const set = (id, value) => {
    byId(id).value = value === null ? "" : String(value);
  };
  set("agent-name-input", agent.name);
  set("agent-description", agent.description);
  set("agent-instructions", agent.instructions);
  set("agent-model", agent.model);
  set("agent-temperature", agent.temperature);
  set("agent-max-tokens", agent.max_output_tokens);
  set("agent-status", agent.status);
}
`,
  "agents": `// functions/console/client/shared/session.ts
var storageKey = "agentry.console.session";
function readSession() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(storageKey) ?? "null");
    return saved && typeof saved.credential === "string" ? saved : null;
  } catch {
    return null;
  }
}
function clearSession() {
  sessionStorage.removeItem(storageKey);
}

// functions/console/client/shared/settings.ts
var settings = {
  apiBase: document.body.dataset.apiBase ?? "",
  consoleBase: document.body.dataset.consoleBase ?? "",
  signedIn: document.body.dataset.signedIn !== "no"
};
var consoleUrl = (path) => settings.consoleBase + path;
function signInUrl() {
  const back = location.pathname + location.search;
  return \`\${consoleUrl("/sign-in")}?next=\${encodeURIComponent(back)}\`;
}

// functions/console/client/shared/api.ts
var ApiFailure = class extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
  status;
  code;
};
function authHeaders(session = readSession()) {
  if (!session) return {};
  const headers = { authorization: \`Bearer \${session.credential}\` };
  if (session.orgId) headers["x-org-id"] = session.orgId;
  return headers;
}
async function api(method, path, body) {
  const response = await apiFetch(method, path, body);
  if (response.status === 204) return void 0;
  const parsed = await response.json();
  return parsed.data;
}
async function apiFetch(method, path, body, extraHeaders = {}) {
  const headers = { ...authHeaders(), ...extraHeaders };
  if (body !== void 0) headers["content-type"] = "application/json";
  const response = await fetch(settings.apiBase + path, { method, headers, body: body === void 0 ? void 0 : JSON.stringify(body) });
  if (response.ok) return response;
  const failure = await failureOf(response);
  if (response.status === 401 && settings.signedIn) {
    clearSession();
    location.assign(signInUrl());
  }
  throw failure;
}
async function failureOf(response) {
  try {
    const { error } = await response.json();
    return new ApiFailure(response.status, error.code, error.message);
  } catch {
    return new ApiFailure(response.status, "unknown", \`The API answered \${response.status}.\`);
  }
}
function allows(me, scope) {
  const access = scope.split(":")[1];
  return me.scopes.some((held) => held === scope || held === "*" || held === \`*:\${access}\`);
}

// functions/console/client/shared/dom.ts
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else if (value !== false && value !== null && value !== void 0) element.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child !== null && child !== void 0 && child !== false) element.append(typeof child === "number" ? String(child) : child);
  }
  return element;
}
function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(\`The page has no #\${id}.\`);
  return element;
}
function when(iso) {
  return iso ? new Date(iso).toLocaleString(void 0, { dateStyle: "medium", timeStyle: "short" }) : "—";
}
function errorBox(error) {
  return h("p", { class: "error", role: "alert" }, error instanceof Error ? error.message : String(error));
}

// functions/console/client/shared/page.ts
function startPage(run) {
  if (!readSession()) {
    location.replace(signInUrl());
    return;
  }
  void (async () => {
    const main = document.getElementById("main");
    try {
      const me = await api("GET", "/me");
      const can = (scope) => allows(me, scope);
      const who = document.getElementById("who-org");
      if (who) who.textContent = me.user ? \`\${me.org.name} · \${me.user.role}\` : me.org.name;
      document.getElementById("sign-out")?.addEventListener("click", () => {
        clearSession();
        location.assign(consoleUrl("/sign-in"));
      });
      for (const item of document.querySelectorAll("[data-reads]")) item.hidden = !can(item.dataset.reads);
      revealPermitted(can);
      await run({ me, can });
    } catch (error) {
      main.append(errorBox(error));
    } finally {
      main.removeAttribute("data-pending");
    }
  })();
}
function revealPermitted(can, root = document) {
  for (const element of root.querySelectorAll("[data-requires]")) element.hidden = !can(element.dataset.requires);
}

// functions/console/client/pages/agents.ts
var rows = byId("agent-rows");
startPage(async () => {
  try {
    const agents = await api("GET", "/agents");
    rows.replaceChildren(
      ...agents.length ? agents.map(
        (agent) => h(
          "tr",
          {},
          h("td", {}, h("a", { href: consoleUrl(\`/agents/\${agent.id}\`) }, agent.name)),
          h("td", {}, agent.model ?? "Default"),
          h("td", {}, h("span", { class: \`badge \${agent.status}\` }, agent.status)),
          h("td", {}, when(agent.updated_at))
        )
      ) : [h("tr", {}, h("td", { colspan: 4, class: "empty" }, "No agents yet."))]
    );
  } catch (error) {
    rows.replaceChildren(h("tr", {}, h("td", { colspan: 4 }, errorBox(error))));
  }
});
`,
  "sign-in": `// functions/console/client/shared/dom.ts
function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(\`The page has no #\${id}.\`);
  return element;
}

// functions/console/client/shared/session.ts
var storageKey = "agentry.console.session";
function saveSession(session) {
  sessionStorage.setItem(storageKey, JSON.stringify(session));
}

// functions/console/client/shared/settings.ts
var settings = {
  apiBase: document.body.dataset.apiBase ?? "",
  consoleBase: document.body.dataset.consoleBase ?? "",
  signedIn: document.body.dataset.signedIn !== "no"
};
var consoleUrl = (path) => settings.consoleBase + path;

// functions/console/client/pages/sign-in.ts
var errorBox = byId("sign-in-error");
function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
}
function destination() {
  const next = new URLSearchParams(location.search).get("next");
  return next?.startsWith(\`\${settings.consoleBase}/\`) && !next.startsWith("//") ? next : consoleUrl("/tokens");
}
async function signIn(session) {
  const headers = { authorization: \`Bearer \${session.credential}\` };
  if (session.orgId) headers["x-org-id"] = session.orgId;
  const response = await fetch(\`\${settings.apiBase}/me\`, { headers });
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    showError(body?.error?.message ?? \`The API answered \${response.status}.\`);
    return;
  }
  const me = (await response.json()).data;
  saveSession({ ...session, orgId: session.orgId ?? (me.credential === "user" ? me.org.id : void 0) });
  location.assign(destination());
}
var devButton = document.getElementById("dev-sign-in");
devButton?.addEventListener("click", () => void signIn({ credential: devButton.dataset.key }));
byId("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = new FormData(event.currentTarget);
  const org = String(form.get("org") ?? "").trim();
  void signIn({ credential: String(form.get("credential")).trim(), orgId: org || void 0 });
});
var emailForm = document.getElementById("email-form");
emailForm?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(emailForm);
  const { authUrl, anonKey } = emailForm.dataset;
  try {
    const response = await fetch(\`\${authUrl}/auth/v1/token?grant_type=password\`, {
      method: "POST",
      headers: { apikey: anonKey, "content-type": "application/json" },
      body: JSON.stringify({ email: form.get("email"), password: form.get("password") })
    });
    const body = await response.json().catch(() => null);
    if (!response.ok || typeof body?.access_token !== "string") {
      showError(body?.error_description ?? body?.msg ?? body?.message ?? "Sign-in failed: check the email and password.");
      return;
    }
    const org = String(form.get("org") ?? "").trim();
    await signIn({
      credential: body.access_token,
      refreshToken: body.refresh_token,
      expiresAt: typeof body.expires_at === "number" ? body.expires_at : void 0,
      orgId: org || void 0
    });
  } catch {
    showError("The sign-in service could not be reached.");
  }
});
`,
  "tokens": `// functions/console/client/shared/session.ts
var storageKey = "agentry.console.session";
function readSession() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(storageKey) ?? "null");
    return saved && typeof saved.credential === "string" ? saved : null;
  } catch {
    return null;
  }
}
function clearSession() {
  sessionStorage.removeItem(storageKey);
}

// functions/console/client/shared/settings.ts
var settings = {
  apiBase: document.body.dataset.apiBase ?? "",
  consoleBase: document.body.dataset.consoleBase ?? "",
  signedIn: document.body.dataset.signedIn !== "no"
};
var consoleUrl = (path) => settings.consoleBase + path;
function signInUrl() {
  const back = location.pathname + location.search;
  return \`\${consoleUrl("/sign-in")}?next=\${encodeURIComponent(back)}\`;
}

// functions/console/client/shared/api.ts
var ApiFailure = class extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
  status;
  code;
};
function authHeaders(session = readSession()) {
  if (!session) return {};
  const headers = { authorization: \`Bearer \${session.credential}\` };
  if (session.orgId) headers["x-org-id"] = session.orgId;
  return headers;
}
async function api(method, path, body) {
  const response = await apiFetch(method, path, body);
  if (response.status === 204) return void 0;
  const parsed = await response.json();
  return parsed.data;
}
async function apiFetch(method, path, body, extraHeaders = {}) {
  const headers = { ...authHeaders(), ...extraHeaders };
  if (body !== void 0) headers["content-type"] = "application/json";
  const response = await fetch(settings.apiBase + path, { method, headers, body: body === void 0 ? void 0 : JSON.stringify(body) });
  if (response.ok) return response;
  const failure = await failureOf(response);
  if (response.status === 401 && settings.signedIn) {
    clearSession();
    location.assign(signInUrl());
  }
  throw failure;
}
async function failureOf(response) {
  try {
    const { error } = await response.json();
    return new ApiFailure(response.status, error.code, error.message);
  } catch {
    return new ApiFailure(response.status, "unknown", \`The API answered \${response.status}.\`);
  }
}
function allows(me, scope) {
  const access = scope.split(":")[1];
  return me.scopes.some((held) => held === scope || held === "*" || held === \`*:\${access}\`);
}

// functions/console/client/shared/dom.ts
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else if (value !== false && value !== null && value !== void 0) element.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child !== null && child !== void 0 && child !== false) element.append(typeof child === "number" ? String(child) : child);
  }
  return element;
}
function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(\`The page has no #\${id}.\`);
  return element;
}
function announce(message) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  setTimeout(() => {
    region.textContent = message;
  }, 50);
}
function when(iso) {
  return iso ? new Date(iso).toLocaleString(void 0, { dateStyle: "medium", timeStyle: "short" }) : "—";
}
function errorBox(error) {
  return h("p", { class: "error", role: "alert" }, error instanceof Error ? error.message : String(error));
}

// functions/console/client/shared/dialog.ts
var focusable = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';
function openDialog(dialog, initialFocus) {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const trap = (event) => {
    if (event.key !== "Tab") return;
    const items = [...dialog.querySelectorAll(focusable)].filter((el) => el.offsetParent !== null);
    if (items.length === 0) return;
    const first = items[0];
    const last = items[items.length - 1];
    if (event.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (document.activeElement === last || !dialog.contains(document.activeElement))) {
      event.preventDefault();
      first.focus();
    }
  };
  dialog.addEventListener("keydown", trap);
  dialog.addEventListener(
    "close",
    () => {
      dialog.removeEventListener("keydown", trap);
      if (opener?.isConnected) opener.focus();
    },
    { once: true }
  );
  dialog.showModal();
  (initialFocus ?? dialog.querySelector(focusable))?.focus();
}
function confirmAction({ title, message, confirmLabel, danger = false }) {
  return new Promise((resolve) => {
    const titleId = \`confirm-title-\${Math.random().toString(36).slice(2)}\`;
    const cancel = h("button", { type: "button", class: "button secondary" }, "Cancel");
    const confirm = h("button", { type: "button", class: danger ? "button danger" : "button" }, confirmLabel);
    const dialog = h(
      "dialog",
      { "aria-labelledby": titleId, class: "confirm" },
      h("div", { class: "dialog-body" }, h("h2", { id: titleId }, title), h("p", {}, message)),
      h("div", { class: "dialog-actions" }, cancel, confirm)
    );
    let confirmed = false;
    cancel.addEventListener("click", () => dialog.close());
    confirm.addEventListener("click", () => {
      confirmed = true;
      dialog.close();
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(confirmed);
    });
    document.body.append(dialog);
    openDialog(dialog, cancel);
  });
}

// functions/console/client/shared/page.ts
function startPage(run) {
  if (!readSession()) {
    location.replace(signInUrl());
    return;
  }
  void (async () => {
    const main = document.getElementById("main");
    try {
      const me = await api("GET", "/me");
      const can = (scope) => allows(me, scope);
      const who = document.getElementById("who-org");
      if (who) who.textContent = me.user ? \`\${me.org.name} · \${me.user.role}\` : me.org.name;
      document.getElementById("sign-out")?.addEventListener("click", () => {
        clearSession();
        location.assign(consoleUrl("/sign-in"));
      });
      for (const item of document.querySelectorAll("[data-reads]")) item.hidden = !can(item.dataset.reads);
      revealPermitted(can);
      await run({ me, can });
    } catch (error) {
      main.append(errorBox(error));
    } finally {
      main.removeAttribute("data-pending");
    }
  })();
}
function revealPermitted(can, root = document) {
  for (const element of root.querySelectorAll("[data-requires]")) element.hidden = !can(element.dataset.requires);
}

// functions/console/client/pages/tokens.ts
var rows = byId("token-rows");
var generateDialog = byId("generate-dialog");
var generateForm = byId("generate-form");
var secretDialog = byId("secret-dialog");
var rotateDialog = byId("rotate-dialog");
var rotateForm = byId("rotate-form");
for (const button of document.querySelectorAll("dialog [data-close]")) {
  button.addEventListener("click", () => button.closest("dialog").close());
}
startPage(async ({ can }) => {
  const mayWrite = can("keys:write");
  async function load() {
    try {
      const keys = await api("GET", "/agent/api-keys");
      rows.replaceChildren(...keys.length ? keys.map(row) : [emptyRow()]);
    } catch (error) {
      rows.replaceChildren(h("tr", {}, h("td", { colspan: 7 }, errorBox(error))));
    }
  }
  function row(key) {
    const expired = key.status === "active" && key.expires_at !== null && Date.parse(key.expires_at) <= Date.now();
    const status = expired ? "expired" : key.status;
    const actions = [
      key.status === "active" && h("button", { type: "button", class: "button small secondary", onclick: () => askRotate(key) }, "Rotate", hiddenName(key)),
      key.status === "active" && h("button", { type: "button", class: "button small secondary danger-text", onclick: () => revoke(key) }, "Revoke", hiddenName(key)),
      h("button", { type: "button", class: "button small danger", onclick: () => remove(key) }, "Delete", hiddenName(key))
    ];
    return h(
      "tr",
      { "data-key-id": key.id },
      h("td", {}, key.name),
      h("td", {}, h("code", {}, key.prefix)),
      h("td", {}, h("span", { class: \`badge \${status}\` }, status)),
      h("td", {}, when(key.created_at)),
      h("td", {}, key.last_used_at ? when(key.last_used_at) : "Never"),
      h("td", {}, key.calls.toLocaleString()),
      mayWrite && h("td", { class: "actions" }, ...actions)
    );
  }
  const hiddenName = (key) => h("span", { class: "visually-hidden" }, \` \${key.name}\`);
  const emptyRow = () => h("tr", {}, h("td", { colspan: 7, class: "empty" }, "No tokens yet."));
  async function revoke(key) {
    const ok = await confirmAction({
      title: "Revoke token",
      message: \`Revoke the token “\${key.name}” (\${key.prefix})? Requests made with it are refused from now on. Its record and history stay.\`,
      confirmLabel: "Revoke token",
      danger: true
    });
    if (!ok) return;
    await act(() => api("DELETE", \`/agent/api-keys/\${key.id}\`), \`Token “\${key.name}” revoked.\`);
  }
  async function remove(key) {
    const ok = await confirmAction({
      title: "Delete token",
      message: \`Delete the token “\${key.name}” (\${key.prefix}) and its record for good? This cannot be undone.\`,
      confirmLabel: "Delete token",
      danger: true
    });
    if (!ok) return;
    await act(() => api("DELETE", \`/agent/api-keys/\${key.id}?permanent=true\`), \`Token “\${key.name}” deleted.\`);
  }
  async function act(call, done) {
    try {
      await call();
      announce(done);
    } catch (error) {
      announce(error instanceof Error ? error.message : String(error));
      alertAbove(error);
    }
    await load();
  }
  function alertAbove(error) {
    document.querySelector(".table-wrap")?.before(errorBox(error));
  }
  let rotating = null;
  function askRotate(key) {
    rotating = key;
    byId("rotate-message").textContent = \`A new token replaces “\${key.name}” (\${key.prefix}) with the same scopes. The old one keeps working for the time you choose, so deployments can switch over.\`;
    byId("rotate-error").hidden = true;
    openDialog(rotateDialog, byId("grace"));
  }
  rotateForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!rotating) return;
    const grace = Number(new FormData(rotateForm).get("grace"));
    try {
      const created = await api("POST", \`/agent/api-keys/\${rotating.id}/rotate\`, { grace_period_seconds: grace });
      rotateDialog.close();
      await load();
      showOnce(created);
    } catch (error) {
      showFormError("rotate-error", error);
    }
  });
  byId("generate").addEventListener("click", () => {
    generateForm.reset();
    byId("generate-error").hidden = true;
    openDialog(generateDialog, byId("token-name"));
  });
  generateForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(generateForm);
    const name = String(form.get("name") ?? "").trim();
    const scopes = form.getAll("scopes").map(String);
    if (!name) return showFormError("generate-error", new Error("Give the token a name."), byId("token-name"));
    if (scopes.length === 0) return showFormError("generate-error", new Error("Choose at least one scope."), byId("scope-all-read"));
    const days = Number(form.get("expiry") || 0);
    const body = { name, scopes };
    if (days) body.expires_at = new Date(Date.now() + days * 864e5).toISOString();
    try {
      const created = await api("POST", "/agent/api-keys", body);
      generateDialog.close();
      await load();
      showOnce(created);
    } catch (error) {
      showFormError("generate-error", error);
    }
  });
  function showFormError(id, error, focus) {
    const box = byId(id);
    box.textContent = error instanceof ApiFailure || error instanceof Error ? error.message : String(error);
    box.hidden = false;
    focus?.focus();
  }
  function showOnce(created) {
    const output = byId("secret-value");
    output.textContent = created.key;
    byId("copy-status").textContent = "";
    secretDialog.addEventListener("close", () => output.textContent = "", { once: true });
    openDialog(secretDialog, byId("copy-secret"));
  }
  byId("copy-secret").addEventListener("click", async () => {
    const status = byId("copy-status");
    try {
      await navigator.clipboard.writeText(byId("secret-value").textContent ?? "");
      status.textContent = "Copied to the clipboard.";
    } catch {
      status.textContent = "The browser refused the clipboard: select the token and copy it.";
    }
  });
  await load();
});
`,
}
