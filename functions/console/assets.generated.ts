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
function saveSession(session) {
  sessionStorage.setItem(storageKey, JSON.stringify(session));
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
  const headers = { ...authHeaders(await currentSession()), ...extraHeaders };
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
async function currentSession() {
  const session = readSession();
  if (!session?.refreshToken || !session.auth || !session.expiresAt || session.expiresAt - Date.now() / 1e3 > 60) return session;
  try {
    const response = await fetch(\`\${session.auth.url}/auth/v1/token?grant_type=refresh_token\`, {
      method: "POST",
      headers: { apikey: session.auth.anonKey, "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: session.refreshToken })
    });
    if (!response.ok) return session;
    const renewed = await response.json();
    const next = {
      ...session,
      credential: renewed.access_token,
      refreshToken: renewed.refresh_token,
      expiresAt: renewed.expires_at
    };
    saveSession(next);
    return next;
  } catch {
    return session;
  }
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
          bubble.append(errorBox(data.error.message));
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
function saveSession(session) {
  sessionStorage.setItem(storageKey, JSON.stringify(session));
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
  const headers = { ...authHeaders(await currentSession()), ...extraHeaders };
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
async function currentSession() {
  const session = readSession();
  if (!session?.refreshToken || !session.auth || !session.expiresAt || session.expiresAt - Date.now() / 1e3 > 60) return session;
  try {
    const response = await fetch(\`\${session.auth.url}/auth/v1/token?grant_type=refresh_token\`, {
      method: "POST",
      headers: { apikey: session.auth.anonKey, "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: session.refreshToken })
    });
    if (!response.ok) return session;
    const renewed = await response.json();
    const next = {
      ...session,
      credential: renewed.access_token,
      refreshToken: renewed.refresh_token,
      expiresAt: renewed.expires_at
    };
    saveSession(next);
    return next;
  } catch {
    return session;
  }
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
  "dataset": `// functions/console/pages/dataset-filters.ts
var filterOperators = {
  eq: "equals",
  neq: "does not equal",
  gt: "greater than",
  gte: "at least",
  lt: "less than",
  lte: "at most",
  like: "matches (case-sensitive, * as wildcard)",
  ilike: "matches (any case, * as wildcard)",
  in: "is one of (comma-separated)",
  is: "is (null, true or false)"
};
var isFilterOperator = (op) => Object.hasOwn(filterOperators, op);
function fieldName(column) {
  if (/^[A-Za-z0-9_$]+( [A-Za-z0-9_$]+)*$/.test(column)) return column;
  return \`"\${column.replaceAll("\\\\", "\\\\\\\\").replaceAll('"', '\\\\"')}"\`;
}
function listElement(value) {
  if (value !== "" && !/[,()"\\\\]/.test(value) && value.trim() === value) return value;
  return \`"\${value.replaceAll("\\\\", "\\\\\\\\").replaceAll('"', '\\\\"')}"\`;
}
function listValues(value) {
  return value.split(",").map((v) => v.trim()).filter((v) => v !== "");
}
function operand(filter) {
  if (filter.operator === "in") return \`(\${listValues(filter.value).map(listElement).join(",")})\`;
  if (filter.operator === "is") return filter.value.trim().toLowerCase();
  return filter.value;
}
function rowQueryParams(request) {
  const params = request.filters.map((f) => [fieldName(f.column), \`\${f.operator}.\${operand(f)}\`]);
  if (request.order) params.push(["order", \`\${fieldName(request.order.column)}.\${request.order.descending ? "desc" : "asc"}\`]);
  params.push(["limit", String(request.limit)], ["offset", String(request.offset)]);
  return params;
}
function encodePart(text) {
  return encodeURIComponent(text).replace(/%(2C|28|29|22|24|3A|3E|2A)/g, (_, hex) => String.fromCharCode(Number.parseInt(hex, 16)));
}
function rowQueryString(request) {
  return rowQueryParams(request).map(([k, v]) => \`\${encodePart(k)}=\${encodePart(v)}\`).join("&");
}
var shellQuote = (text) => \`'\${text.replaceAll("'", \`'\\\\''\`)}'\`;
function curlCommand(apiBase, datasetId2, request) {
  const url = \`\${apiBase}/datasets/\${encodeURIComponent(datasetId2)}/rows?\${rowQueryString(request)}\`;
  return \`curl \${shellQuote(url)} \\\\
  -H "Authorization: Bearer $AGENTRY_KEY"\`;
}
var js = (value) => JSON.stringify(value);
function jsValue(text, type) {
  if (type === "number" && text.trim() !== "" && Number.isFinite(Number(text))) return String(Number(text));
  return js(text);
}
function jsCall(filter, type) {
  const column = js(filter.column);
  switch (filter.operator) {
    case "in":
      return \`.in(\${column}, [\${listValues(filter.value).map((v) => jsValue(v, type)).join(", ")}])\`;
    case "is": {
      const v = filter.value.trim().toLowerCase();
      return \`.is(\${column}, \${v === "null" || v === "true" || v === "false" ? v : js(filter.value)})\`;
    }
    default:
      return \`.\${filter.operator}(\${column}, \${jsValue(filter.value, type)})\`;
  }
}
function supabaseJsCall(restBase, datasetName, request, columnTypes = {}) {
  const lines = [
    "import { createClient } from '@supabase/supabase-js'",
    "",
    \`const db = createClient(\${js(restBase)}, process.env.AGENTRY_KEY)\`,
    \`const { data, count } = await db.from(\${js(datasetName)}).select('*', { count: 'exact' })\`
  ];
  for (const f of request.filters) lines.push(\`  \${jsCall(f, columnTypes[f.column])}\`);
  if (request.order) {
    lines.push(\`  .order(\${js(request.order.column)}, { ascending: \${!request.order.descending} })\`);
  }
  lines.push(\`  .range(\${request.offset}, \${request.offset + request.limit - 1})\`);
  return lines.join("\\n");
}
function filtersFromSearch(search) {
  const [columns, operators, values] = [search.getAll("column"), search.getAll("operator"), search.getAll("value")];
  const filters = [];
  columns.forEach((column, i) => {
    const operator = operators[i] ?? "";
    if (column && isFilterOperator(operator)) filters.push({ column, operator, value: values[i] ?? "" });
  });
  return filters;
}

// functions/console/client/shared/session.ts
var storageKey = "agentry.console.session";
function readSession() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(storageKey) ?? "null");
    return saved && typeof saved.credential === "string" ? saved : null;
  } catch {
    return null;
  }
}
function saveSession(session) {
  sessionStorage.setItem(storageKey, JSON.stringify(session));
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
async function api(method, path, body2) {
  const response = await apiFetch(method, path, body2);
  if (response.status === 204) return void 0;
  const parsed = await response.json();
  return parsed.data;
}
async function apiFetch(method, path, body2, extraHeaders = {}) {
  const headers = { ...authHeaders(await currentSession()), ...extraHeaders };
  if (body2 !== void 0) headers["content-type"] = "application/json";
  const response = await fetch(settings.apiBase + path, { method, headers, body: body2 === void 0 ? void 0 : JSON.stringify(body2) });
  if (response.ok) return response;
  const failure = await failureOf(response);
  if (response.status === 401 && settings.signedIn) {
    clearSession();
    location.assign(signInUrl());
  }
  throw failure;
}
async function currentSession() {
  const session = readSession();
  if (!session?.refreshToken || !session.auth || !session.expiresAt || session.expiresAt - Date.now() / 1e3 > 60) return session;
  try {
    const response = await fetch(\`\${session.auth.url}/auth/v1/token?grant_type=refresh_token\`, {
      method: "POST",
      headers: { apikey: session.auth.anonKey, "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: session.refreshToken })
    });
    if (!response.ok) return session;
    const renewed = await response.json();
    const next = {
      ...session,
      credential: renewed.access_token,
      refreshToken: renewed.refresh_token,
      expiresAt: renewed.expires_at
    };
    saveSession(next);
    return next;
  } catch {
    return session;
  }
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

// functions/console/client/pages/dataset.ts
var pageSizes = [10, 25, 50, 100];
var systemColumns = ["id", "created_at", "updated_at"];
var form = byId("filter-form");
var list = byId("filter-list");
var template = byId("filter-template");
var filterError = byId("filter-error");
var total = byId("row-total");
var head = byId("row-head");
var body = byId("row-body");
var datasetId = decodeURIComponent(location.pathname.split("/").pop() ?? "");
function requestFromUrl() {
  const search = new URLSearchParams(location.search);
  const limit = Number(search.get("limit"));
  const order = search.get("order") ?? "";
  return {
    filters: filtersFromSearch(search),
    order: order ? { column: order.replace(/^-/, ""), descending: order.startsWith("-") } : null,
    limit: pageSizes.includes(limit) ? limit : 25,
    offset: Math.max(0, Math.floor(Number(search.get("offset")) || 0))
  };
}
function urlFor(request) {
  const search = new URLSearchParams();
  for (const f of request.filters) {
    search.append("column", f.column);
    search.append("operator", f.operator);
    search.append("value", f.value);
  }
  if (request.order) search.set("order", \`\${request.order.descending ? "-" : ""}\${request.order.column}\`);
  search.set("limit", String(request.limit));
  if (request.offset) search.set("offset", String(request.offset));
  return \`?\${search}\`;
}
var rowCounter = 0;
function addFilterRow(filter, focus = false) {
  const item = template.content.firstElementChild.cloneNode(true);
  const n = ++rowCounter;
  for (const text of item.querySelectorAll(".label-text")) text.append(h("span", { class: "visually-hidden" }, \` of condition \${n}\`));
  const [column, operator, value] = ["column", "operator", "value"].map(
    (name) => item.querySelector(\`[name="\${name}"]\`)
  );
  if (filter) {
    column.value = filter.column;
    operator.value = filter.operator;
    value.value = filter.value;
  }
  item.querySelector(".remove-filter").addEventListener("click", () => {
    item.remove();
    byId("add-filter").focus();
  });
  list.append(item);
  if (focus) column.focus();
}
function cell(value) {
  if (value === null || value === void 0) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}
startPage(async () => {
  const request = requestFromUrl();
  let dataset;
  try {
    dataset = await api("GET", \`/datasets/\${encodeURIComponent(datasetId)}\`);
  } catch (error) {
    form.hidden = true;
    total.replaceWith(errorBox(error));
    return;
  }
  document.title = \`\${dataset.name} · Agentry console\`;
  byId("dataset-name").textContent = dataset.name;
  if (dataset.description) {
    byId("dataset-description").textContent = dataset.description;
    byId("dataset-description").hidden = false;
  }
  const known = [...dataset.columns.map((c) => c.name), ...systemColumns];
  byId("column-names").replaceChildren(...known.map((name) => h("option", { value: name })));
  const orderSelect = byId("order-column");
  for (const name of known) {
    orderSelect.append(h("option", { value: name }, \`\${name}, ascending\`), h("option", { value: \`-\${name}\` }, \`\${name}, descending\`));
  }
  if (request.order) orderSelect.value = \`\${request.order.descending ? "-" : ""}\${request.order.column}\`;
  byId("page-size").value = String(request.limit);
  for (const f of request.filters) addFilterRow(f);
  if (request.filters.length === 0) addFilterRow(null);
  byId("add-filter").addEventListener("click", () => addFilterRow(null, true));
  form.addEventListener("submit", () => {
    for (const row of [...list.children]) {
      const column = row.querySelector('[name="column"]');
      const value = row.querySelector('[name="value"]');
      if (!column.value.trim() && !value.value.trim()) row.remove();
    }
  });
  const types = Object.fromEntries(dataset.columns.map((c) => [c.name, c.type]));
  const apiUrl = new URL(settings.apiBase, location.href).href;
  byId("curl-snippet").textContent = curlCommand(apiUrl, dataset.id, request);
  byId("js-snippet").textContent = supabaseJsCall(apiUrl.replace(/\\/v1$/, ""), dataset.name, request, types);
  try {
    const page = await api("GET", \`/datasets/\${encodeURIComponent(dataset.id)}/rows?\${rowQueryString(request)}\`);
    showRows(dataset, page);
    showPaging(request, page);
  } catch (error) {
    total.textContent = "";
    if (error instanceof ApiFailure && error.status === 400) {
      filterError.textContent = \`The filters were not accepted: \${error.message}\`;
      filterError.hidden = false;
    } else {
      body.replaceChildren(h("tr", {}, h("td", {}, errorBox(error))));
    }
  }
});
function showRows(dataset, page) {
  const columns = [...page.columns];
  for (const row of page.rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  head.replaceChildren(...columns.map((c) => h("th", { scope: "col" }, c)));
  body.replaceChildren(
    ...page.rows.length ? page.rows.map((row) => h("tr", {}, ...columns.map((c) => h("td", {}, cell(row[c]))))) : [h("tr", {}, h("td", { colspan: Math.max(1, columns.length), class: "empty" }, "No rows match."))]
  );
  byId("rows-caption").textContent = \`Rows of \${dataset.name}\`;
}
function showPaging(request, page) {
  const first = page.rows.length ? request.offset + 1 : 0;
  const last = request.offset + page.rows.length;
  const matching = \`\${page.total.toLocaleString()} \${page.total === 1 ? "row matches" : "rows match"}\`;
  total.textContent = request.filters.length ? matching : \`\${page.total.toLocaleString()} \${page.total === 1 ? "row" : "rows"} in all\`;
  byId("page-position").textContent = page.total ? \`Rows \${first}–\${last} of \${page.total.toLocaleString()}\` : "";
  const previous = byId("previous-page");
  const next = byId("next-page");
  previous.hidden = request.offset === 0;
  previous.href = urlFor({ ...request, offset: Math.max(0, request.offset - request.limit) });
  next.hidden = last >= page.total;
  next.href = urlFor({ ...request, offset: request.offset + request.limit });
}
`,
  "datasets": `// functions/console/client/shared/session.ts
var storageKey = "agentry.console.session";
function readSession() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(storageKey) ?? "null");
    return saved && typeof saved.credential === "string" ? saved : null;
  } catch {
    return null;
  }
}
function saveSession(session) {
  sessionStorage.setItem(storageKey, JSON.stringify(session));
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
  const headers = { ...authHeaders(await currentSession()), ...extraHeaders };
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
async function currentSession() {
  const session = readSession();
  if (!session?.refreshToken || !session.auth || !session.expiresAt || session.expiresAt - Date.now() / 1e3 > 60) return session;
  try {
    const response = await fetch(\`\${session.auth.url}/auth/v1/token?grant_type=refresh_token\`, {
      method: "POST",
      headers: { apikey: session.auth.anonKey, "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: session.refreshToken })
    });
    if (!response.ok) return session;
    const renewed = await response.json();
    const next = {
      ...session,
      credential: renewed.access_token,
      refreshToken: renewed.refresh_token,
      expiresAt: renewed.expires_at
    };
    saveSession(next);
    return next;
  } catch {
    return session;
  }
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

// functions/console/client/pages/datasets.ts
var rows = byId("dataset-rows");
startPage(async () => {
  try {
    const datasets = await api("GET", "/datasets");
    rows.replaceChildren(
      ...datasets.length ? datasets.map(
        (d) => h(
          "tr",
          {},
          h("td", {}, h("a", { href: consoleUrl(\`/datasets/\${d.id}\`) }, d.name)),
          h("td", {}, d.columns.length ? d.columns.map((c) => c.name).join(", ") : d.open ? "Any keys" : "—"),
          h("td", {}, d.row_count.toLocaleString()),
          h("td", {}, when(d.updated_at))
        )
      ) : [h("tr", {}, h("td", { colspan: 4, class: "empty" }, "No datasets yet."))]
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
      auth: { url: authUrl, anonKey },
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
function saveSession(session) {
  sessionStorage.setItem(storageKey, JSON.stringify(session));
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
  const headers = { ...authHeaders(await currentSession()), ...extraHeaders };
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
async function currentSession() {
  const session = readSession();
  if (!session?.refreshToken || !session.auth || !session.expiresAt || session.expiresAt - Date.now() / 1e3 > 60) return session;
  try {
    const response = await fetch(\`\${session.auth.url}/auth/v1/token?grant_type=refresh_token\`, {
      method: "POST",
      headers: { apikey: session.auth.anonKey, "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: session.refreshToken })
    });
    if (!response.ok) return session;
    const renewed = await response.json();
    const next = {
      ...session,
      credential: renewed.access_token,
      refreshToken: renewed.refresh_token,
      expiresAt: renewed.expires_at
    };
    saveSession(next);
    return next;
  } catch {
    return session;
  }
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
function wireCloseButtons() {
  for (const button of document.querySelectorAll("dialog [data-close]")) {
    button.addEventListener("click", () => button.closest("dialog").close());
  }
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

// functions/console/client/shared/secret-dialog.ts
function secretDialog(id) {
  const dialog = byId(\`\${id}-dialog\`);
  const output = byId(\`\${id}-value\`);
  const copy = dialog.querySelector("[data-copy-secret]");
  const status = byId(\`\${id}-copy-status\`);
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(output.textContent ?? "");
      status.textContent = "Copied to the clipboard.";
    } catch {
      status.textContent = \`The browser refused the clipboard: select the \${dialog.dataset.secretNoun} and copy it.\`;
    }
  });
  dialog.addEventListener("close", () => {
    output.textContent = "";
    status.textContent = "";
  });
  return (secret) => {
    output.textContent = secret;
    status.textContent = "";
    openDialog(dialog, copy);
  };
}

// functions/console/client/pages/tokens.ts
var rows = byId("token-rows");
var generateDialog = byId("generate-dialog");
var generateForm = byId("generate-form");
var showSecret = secretDialog("secret");
var rotateDialog = byId("rotate-dialog");
var rotateForm = byId("rotate-form");
wireCloseButtons();
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
      h(
        "td",
        {},
        h("span", { class: \`badge \${status}\` }, status),
        // A rotated token in its grace period, or any token with an expiry: when it stops working.
        status === "active" && key.expires_at !== null && h("span", { class: "hint" }, \` until \${when(key.expires_at)}\`)
      ),
      h("td", {}, when(key.created_at)),
      h("td", {}, key.last_used_at ? when(key.last_used_at) : "Never"),
      h("td", {}, key.calls.toLocaleString()),
      mayWrite && h("td", {}, h("div", { class: "actions" }, ...actions))
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
      showSecret(created.key);
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
      showSecret(created.key);
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
  await load();
});
`,
  "usage": `// functions/console/pages/usage-chart.ts
var seriesColours = ["#1f5fa8", "#b3471d", "#2e7d32", "#7b3fa0", "#a3195b", "#00707a", "#6d5d00", "#595959"];
var escapeXml = (text) => text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;").replaceAll("'", "&#39;");
var width = 640;
var height = 260;
var margin = { top: 12, right: 12, bottom: 36, left: 64 };
function axisTicks(max) {
  if (!(max > 0)) return [0, 1];
  const rough = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? 10 * magnitude;
  const ticks = [];
  for (let t = 0; t < max + step - step * 1e-9 && ticks.length < 7; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}
function compact(value) {
  const abs = Math.abs(value);
  if (abs >= 1e9) return \`\${trim(value / 1e9)}G\`;
  if (abs >= 1e6) return \`\${trim(value / 1e6)}M\`;
  if (abs >= 1e3) return \`\${trim(value / 1e3)}k\`;
  return trim(value);
}
var trim = (n) => String(Number(n.toPrecision(3)));
var dayTotals = (chart) => chart.days.map((_, d) => chart.series.reduce((sum, s) => sum + (s.values[d] ?? 0), 0));
function chartSummary(chart) {
  const totals = dayTotals(chart);
  const total = totals.reduce((a, b) => a + b, 0);
  if (chart.days.length === 0 || total === 0) return \`No \${chart.unit} in this period.\`;
  const busiest = totals.indexOf(Math.max(...totals));
  const split = chart.series.length > 1 ? \`, split into \${chart.series.length} series (\${chart.series.map((s) => s.name).join(", ")})\` : "";
  return \`\${chart.format(total)} \${chart.unit} from \${chart.days[0]} to \${chart.days[chart.days.length - 1]}\${split}; the most on \${chart.days[busiest]}: \${chart.format(totals[busiest])}.\`;
}
function stackedBarSvg(chart) {
  const titleId = \`\${chart.id}-title\`;
  const descId = \`\${chart.id}-desc\`;
  const totals = dayTotals(chart);
  const ticks = axisTicks(Math.max(0, ...totals));
  const top = ticks[ticks.length - 1];
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const y = (v) => margin.top + plotH - v / top * plotH;
  const band = plotW / Math.max(1, chart.days.length);
  const barW = Math.max(1, band * 0.7);
  const labelEvery = Math.ceil(chart.days.length / 8);
  const parts = [];
  for (const t of ticks) {
    parts.push(
      \`<line x1="\${margin.left}" x2="\${width - margin.right}" y1="\${f(y(t))}" y2="\${f(y(t))}" stroke="#d0d0d0" stroke-width="1"/>\`,
      \`<text x="\${margin.left - 6}" y="\${f(y(t) + 4)}" text-anchor="end">\${escapeXml(compact(t))}</text>\`
    );
  }
  chart.days.forEach((day, d) => {
    const x = margin.left + d * band + (band - barW) / 2;
    let base = 0;
    chart.series.forEach((s, i) => {
      const v = s.values[d] ?? 0;
      if (v <= 0) return;
      const tip = \`\${day} · \${s.name}: \${chart.format(v)} \${chart.unit}\`;
      parts.push(
        \`<rect x="\${f(x)}" y="\${f(y(base + v))}" width="\${f(barW)}" height="\${f(y(base) - y(base + v))}" fill="\${seriesColours[i % seriesColours.length]}" stroke="#ffffff" stroke-width="0.5" data-day="\${day}" data-series="\${escapeXml(s.name)}" data-value="\${v}"><title>\${escapeXml(tip)}</title></rect>\`
      );
      base += v;
    });
    if (d % labelEvery === 0) {
      parts.push(\`<text x="\${f(x + barW / 2)}" y="\${height - margin.bottom + 16}" text-anchor="middle">\${escapeXml(day.slice(5))}</text>\`);
    }
  });
  parts.push(\`<line x1="\${margin.left}" x2="\${width - margin.right}" y1="\${f(y(0))}" y2="\${f(y(0))}" stroke="#1a1a1a" stroke-width="1"/>\`);
  return \`<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 \${width} \${height}" role="img" aria-labelledby="\${titleId} \${descId}" font-family="system-ui, sans-serif" font-size="12" fill="#1a1a1a"><title id="\${titleId}">\${escapeXml(chart.title)}</title><desc id="\${descId}">\${escapeXml(chartSummary(chart))}</desc>\` + parts.join("") + "</svg>";
}
var f = (n) => String(Math.round(n * 10) / 10);
function chartLegend(chart) {
  if (chart.series.length < 2) return "";
  const items = chart.series.map(
    (s, i) => \`<li><svg class="swatch" width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="\${seriesColours[i % seriesColours.length]}"/></svg>\${escapeXml(s.name)}</li>\`
  );
  return \`<ul class="legend" aria-label="\${escapeXml(\`\${chart.title}: key\`)}">\${items.join("")}</ul>\`;
}
function chartTable(chart) {
  const totals = dayTotals(chart);
  const head = ['<th scope="col">Day</th>', ...chart.series.map((s) => \`<th scope="col">\${escapeXml(s.name)}</th>\`)];
  if (chart.series.length > 1) head.push('<th scope="col">Total</th>');
  const rows = chart.days.map((day, d) => {
    const cells = chart.series.map((s) => \`<td>\${escapeXml(chart.format(s.values[d] ?? 0))}</td>\`);
    if (chart.series.length > 1) cells.push(\`<td>\${escapeXml(chart.format(totals[d]))}</td>\`);
    return \`<tr><th scope="row">\${escapeXml(day)}</th>\${cells.join("")}</tr>\`;
  });
  return \`<table class="chart-table"><caption>\${escapeXml(chart.title)}</caption><thead><tr>\${head.join("")}</tr></thead><tbody>\${rows.join("")}</tbody></table>\`;
}

// functions/console/pages/usage-data.ts
var usageSplits = ["agent", "model"];
var dayMs = 864e5;
function daysBetween(from, to) {
  const days = [];
  for (let t = Date.parse(from); t <= Date.parse(to) && days.length < 400; t += dayMs) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}
function lastDays(today, count) {
  return { from: new Date(Date.parse(today) - (count - 1) * dayMs).toISOString().slice(0, 10), to: today };
}
function seriesByDay(days, perDay, metric, nameOf, maxSeries = 6) {
  const weight = /* @__PURE__ */ new Map();
  for (const rows of perDay.values()) for (const r of rows) weight.set(r.group, (weight.get(r.group) ?? 0) + r[metric]);
  const ranked = [...weight.entries()].filter(([, w]) => w > 0).sort((a, b) => b[1] - a[1] || nameOf(a[0]).localeCompare(nameOf(b[0]))).map(([g]) => g);
  const kept = ranked.length > maxSeries ? ranked.slice(0, maxSeries - 1) : ranked;
  const other = ranked.length > kept.length;
  const series = kept.map((g) => ({ name: nameOf(g), values: days.map(() => 0) }));
  if (other) series.push({ name: "Other", values: days.map(() => 0) });
  days.forEach((day, d) => {
    for (const r of perDay.get(day) ?? []) {
      const at = kept.indexOf(r.group);
      const s = at >= 0 ? series[at] : other ? series[series.length - 1] : void 0;
      if (s) s.values[d] += r[metric];
    }
  });
  return series;
}
var whole = new Intl.NumberFormat("en", { maximumFractionDigits: 0 });
var formatCount = (n) => whole.format(n);
function formatUsd(n) {
  if (n === 0) return "$0.00";
  if (Math.abs(n) >= 1) return \`$\${n.toFixed(2)}\`;
  const significant = String(Number(n.toPrecision(3)));
  return \`$\${(significant.split(".")[1]?.length ?? 0) < 2 ? n.toFixed(2) : significant}\`;
}

// functions/console/client/shared/session.ts
var storageKey = "agentry.console.session";
function readSession() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(storageKey) ?? "null");
    return saved && typeof saved.credential === "string" ? saved : null;
  } catch {
    return null;
  }
}
function saveSession(session) {
  sessionStorage.setItem(storageKey, JSON.stringify(session));
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
  const headers = { ...authHeaders(await currentSession()), ...extraHeaders };
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
async function currentSession() {
  const session = readSession();
  if (!session?.refreshToken || !session.auth || !session.expiresAt || session.expiresAt - Date.now() / 1e3 > 60) return session;
  try {
    const response = await fetch(\`\${session.auth.url}/auth/v1/token?grant_type=refresh_token\`, {
      method: "POST",
      headers: { apikey: session.auth.anonKey, "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: session.refreshToken })
    });
    if (!response.ok) return session;
    const renewed = await response.json();
    const next = {
      ...session,
      credential: renewed.access_token,
      refreshToken: renewed.refresh_token,
      expiresAt: renewed.expires_at
    };
    saveSession(next);
    return next;
  } catch {
    return session;
  }
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

// functions/console/client/pages/usage.ts
var periods = [7, 14, 30];
var charts = [
  { id: "requests", title: "Requests per day", metric: "calls", unit: "requests", format: formatCount },
  { id: "tokens", title: "Tokens per day", metric: "total_tokens", unit: "tokens", format: formatCount },
  { id: "cost", title: "Cost per day", metric: "cost_usd", unit: "USD", format: formatUsd }
];
var costs = async (query) => await (await apiFetch("GET", \`/costs?\${query}\`)).json();
startPage(async ({ can }) => {
  const search = new URLSearchParams(location.search);
  const days = periods.includes(Number(search.get("days"))) ? Number(search.get("days")) : 14;
  const split = usageSplits.includes(search.get("split") ?? "") ? search.get("split") : "agent";
  byId("usage-days").value = String(days);
  byId("usage-split").value = split;
  try {
    const { from, to } = lastDays((/* @__PURE__ */ new Date()).toISOString().slice(0, 10), days);
    const byDay = await costs(\`group_by=day&from=\${from}&to=\${to}\`);
    const perDay = /* @__PURE__ */ new Map();
    const busyDays = byDay.data.filter((d) => d.calls > 0 && d.group).map((d) => d.group);
    for (let i = 0; i < busyDays.length; i += 2) {
      const pair = busyDays.slice(i, i + 2);
      const answers = await Promise.all(pair.map((d) => costs(\`group_by=\${split}&from=\${d}&to=\${d}\`)));
      for (const [j, d] of pair.entries()) perDay.set(d, answers[j].data);
    }
    const names = split === "agent" && can("agents:read") ? await agentNames() : /* @__PURE__ */ new Map();
    const nameOf = (group) => group === null ? split === "agent" ? "No agent" : "Unknown model" : names.get(group) ?? (split === "agent" ? \`Agent \${group.slice(0, 8)}\` : group);
    const span = daysBetween(from, to);
    const totals = [
      ["Requests", formatCount(byDay.total.calls)],
      ["Tokens", formatCount(byDay.total.total_tokens)],
      ["Cost", formatUsd(byDay.total.cost_usd)]
    ];
    if (byDay.total.unpriced_calls > 0) totals.push(["Requests without a price", formatCount(byDay.total.unpriced_calls)]);
    byId("usage-totals").replaceChildren(...totals.map(([term, value]) => h("div", {}, h("dt", {}, term), h("dd", {}, value))));
    for (const c of charts) {
      const chart = {
        id: \`\${c.id}-svg\`,
        title: \`\${c.title}, by \${split}, \${from} to \${to}\`,
        days: span,
        series: seriesByDay(span, perDay, c.metric, nameOf),
        format: c.format,
        unit: c.unit
      };
      byId(\`\${c.id}-chart\`).innerHTML = stackedBarSvg(chart);
      byId(\`\${c.id}-legend\`).innerHTML = chartLegend(chart);
      byId(\`\${c.id}-table\`).innerHTML = chartTable(chart);
    }
  } catch (error) {
    byId("usage-totals").replaceWith(errorBox(error));
  }
});
async function agentNames() {
  try {
    const agents = await api("GET", "/agents");
    return new Map(agents.map((a) => [a.id, a.name]));
  } catch {
    return /* @__PURE__ */ new Map();
  }
}
`,
  "webhooks": `// functions/console/pages/webhook-health.ts
var percent = (rate) => \`\${(Math.round(rate * 1e3) / 10).toFixed(1)}%\`;
function healthStrip(h2) {
  const tone = h2.state === "disabled" ? "bad" : h2.state === "failing" || h2.success_rate !== null && h2.success_rate < 0.95 ? "warn" : h2.state === "healthy" ? "ok" : "neutral";
  const attempts = \`\${h2.attempts_24h.toLocaleString("en")} \${h2.attempts_24h === 1 ? "attempt" : "attempts"}\`;
  return {
    tone,
    state: h2.state,
    success: h2.success_rate === null ? "No attempts" : \`\${percent(h2.success_rate)} of \${attempts}\`,
    successPercent: h2.success_rate === null ? null : Math.round(h2.success_rate * 1e3) / 10,
    latency: h2.latency_p95_ms === null ? "—" : \`\${Math.round(h2.latency_p95_ms).toLocaleString("en")} ms\`,
    failures: h2.consecutive_failures > 0 ? \`\${h2.consecutive_failures} \${h2.consecutive_failures === 1 ? "failure" : "failures"} since the last success\` : null
  };
}
var deliveryTone = (status) => status === "delivered" ? "ok" : status === "failed" ? "warn" : status === "dead" ? "bad" : "neutral";
function lastAnswer(d) {
  if (d.last_error) return d.last_error;
  if (d.last_status_code !== null) return \`HTTP \${d.last_status_code}\`;
  return "—";
}
var retriable = (status) => status === "failed" || status === "dead";
function eventList(text) {
  return [...new Set(text.split(/[\\s,]+/).filter((e) => e !== ""))];
}

// functions/console/client/shared/session.ts
var storageKey = "agentry.console.session";
function readSession() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(storageKey) ?? "null");
    return saved && typeof saved.credential === "string" ? saved : null;
  } catch {
    return null;
  }
}
function saveSession(session) {
  sessionStorage.setItem(storageKey, JSON.stringify(session));
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
  const headers = { ...authHeaders(await currentSession()), ...extraHeaders };
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
async function currentSession() {
  const session = readSession();
  if (!session?.refreshToken || !session.auth || !session.expiresAt || session.expiresAt - Date.now() / 1e3 > 60) return session;
  try {
    const response = await fetch(\`\${session.auth.url}/auth/v1/token?grant_type=refresh_token\`, {
      method: "POST",
      headers: { apikey: session.auth.anonKey, "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: session.refreshToken })
    });
    if (!response.ok) return session;
    const renewed = await response.json();
    const next = {
      ...session,
      credential: renewed.access_token,
      refreshToken: renewed.refresh_token,
      expiresAt: renewed.expires_at
    };
    saveSession(next);
    return next;
  } catch {
    return session;
  }
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
function wireCloseButtons() {
  for (const button of document.querySelectorAll("dialog [data-close]")) {
    button.addEventListener("click", () => button.closest("dialog").close());
  }
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

// functions/console/client/shared/secret-dialog.ts
function secretDialog(id) {
  const dialog = byId(\`\${id}-dialog\`);
  const output = byId(\`\${id}-value\`);
  const copy = dialog.querySelector("[data-copy-secret]");
  const status = byId(\`\${id}-copy-status\`);
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(output.textContent ?? "");
      status.textContent = "Copied to the clipboard.";
    } catch {
      status.textContent = \`The browser refused the clipboard: select the \${dialog.dataset.secretNoun} and copy it.\`;
    }
  });
  dialog.addEventListener("close", () => {
    output.textContent = "";
    status.textContent = "";
  });
  return (secret) => {
    output.textContent = secret;
    status.textContent = "";
    openDialog(dialog, copy);
  };
}

// functions/console/client/pages/webhooks.ts
var endpointList = byId("endpoint-list");
var deliveryRows = byId("delivery-rows");
var moreButton = byId("more-deliveries");
var filterForm = byId("delivery-filter");
var endpointSelect = byId("delivery-endpoint");
var statusSelect = byId("delivery-status");
var endpointDialog = byId("endpoint-dialog");
var endpointForm = byId("endpoint-form");
var endpointError = byId("endpoint-error");
var showSecret = secretDialog("endpoint-secret");
wireCloseButtons();
startPage(async ({ can }) => {
  const mayWrite = can("webhooks:write");
  let endpoints = [];
  let cursor = null;
  const urlOf = (id) => endpoints.find((e) => e.id === id)?.url ?? id;
  async function loadEndpoints() {
    try {
      const [list, health] = await Promise.all([api("GET", "/webhooks"), api("GET", "/webhooks/health")]);
      endpoints = list;
      const healthOf = new Map(health.map((x) => [x.endpoint_id, x]));
      endpointList.replaceChildren(
        ...list.length ? list.map((e) => endpointItem(e, healthOf.get(e.id))) : [h("li", { class: "empty" }, "No endpoints yet.")]
      );
      const chosen = endpointSelect.value;
      endpointSelect.replaceChildren(
        h("option", { value: "" }, "All endpoints"),
        ...list.map((e) => h("option", { value: e.id }, e.description ? \`\${e.description} (\${e.url})\` : e.url))
      );
      endpointSelect.value = list.some((e) => e.id === chosen) ? chosen : "";
    } catch (error) {
      endpointList.replaceChildren(h("li", {}, errorBox(error)));
    }
  }
  function endpointItem(endpoint, health) {
    const strip = health ? healthStrip(health) : null;
    const titleId = \`endpoint-\${endpoint.id}\`;
    const bar = h("span", { class: "rate-bar" }, h("span", { class: \`rate-fill \${strip?.tone ?? "neutral"}\` }));
    bar.firstElementChild.style.width = \`\${strip?.successPercent ?? 0}%\`;
    return h(
      "li",
      { class: "panel endpoint", "aria-labelledby": titleId, "data-endpoint-id": endpoint.id },
      h(
        "div",
        { class: "endpoint-head" },
        h("h3", { id: titleId }, h("code", {}, endpoint.url)),
        h("span", { class: \`badge \${strip?.tone ?? "neutral"}\` }, strip?.state ?? (endpoint.enabled ? "enabled" : "disabled"))
      ),
      endpoint.description && h("p", { class: "muted" }, endpoint.description),
      h("p", { class: "hint" }, \`Events: \${endpoint.events.join(", ")}\`),
      strip && h(
        "dl",
        { class: "health-strip", "aria-label": \`Last 24 hours of \${endpoint.url}\` },
        h("div", {}, h("dt", {}, "Success rate"), h("dd", { class: "success-rate" }, bar, strip.success)),
        h("div", {}, h("dt", {}, "p95 latency"), h("dd", { class: "p95-latency" }, strip.latency)),
        strip.failures && h("div", {}, h("dt", {}, "Failing"), h("dd", {}, strip.failures))
      ),
      h(
        "div",
        { class: "endpoint-actions" },
        h(
          "button",
          { type: "button", class: "button small secondary", onclick: () => showDeliveriesOf(endpoint) },
          "Show deliveries",
          h("span", { class: "visually-hidden" }, \` to \${endpoint.url}\`)
        ),
        mayWrite && h(
          "button",
          {
            type: "button",
            class: "button small",
            onclick: (event) => sendTest(endpoint, event.currentTarget)
          },
          "Send test event",
          h("span", { class: "visually-hidden" }, \` to \${endpoint.url}\`)
        )
      )
    );
  }
  function showDeliveriesOf(endpoint) {
    endpointSelect.value = endpoint.id;
    statusSelect.value = "";
    void loadDeliveries(false);
    byId("deliveries-title").scrollIntoView({ block: "start" });
  }
  async function sendTest(endpoint, button) {
    button.disabled = true;
    try {
      await api("POST", \`/webhooks/\${endpoint.id}/test\`);
      announce(\`Test event queued for \${endpoint.url}.\`);
      await loadDeliveries(false);
    } catch (error) {
      announce(error instanceof Error ? error.message : String(error));
    } finally {
      button.disabled = false;
    }
  }
  async function loadDeliveries(append) {
    const search = new URLSearchParams({ limit: "25" });
    if (endpointSelect.value) search.set("endpoint_id", endpointSelect.value);
    if (statusSelect.value) search.set("status", statusSelect.value);
    if (append && cursor) search.set("cursor", cursor);
    try {
      const page = await (await apiFetch("GET", \`/webhooks/deliveries?\${search}\`)).json();
      cursor = page.next_cursor;
      const rows = page.data.map(deliveryRow);
      if (append) deliveryRows.append(...rows);
      else deliveryRows.replaceChildren(...rows.length ? rows : [h("tr", {}, h("td", { colspan: 7, class: "empty" }, "No deliveries."))]);
      moreButton.hidden = cursor === null;
    } catch (error) {
      deliveryRows.replaceChildren(h("tr", {}, h("td", { colspan: 7 }, errorBox(error))));
    }
  }
  function deliveryRow(d) {
    const actions = h("td", { class: "actions" });
    if (mayWrite && retriable(d.status)) {
      actions.append(
        h(
          "button",
          {
            type: "button",
            class: "button small secondary",
            onclick: (event) => retry(d, event.currentTarget)
          },
          "Retry",
          h("span", { class: "visually-hidden" }, \` \${d.event_type} delivery of \${when(d.created_at)}\`)
        )
      );
    }
    return h(
      "tr",
      { "data-delivery-id": d.id },
      h("td", {}, h("code", {}, d.event_type)),
      h("td", {}, urlOf(d.endpoint_id)),
      h("td", {}, h("span", { class: \`badge \${deliveryTone(d.status)}\` }, d.status)),
      h("td", {}, String(d.attempt_count)),
      h("td", {}, lastAnswer(d)),
      h("td", {}, when(d.created_at)),
      mayWrite && actions
    );
  }
  async function retry(d, button) {
    button.disabled = true;
    try {
      const queued = await api("POST", \`/webhooks/deliveries/\${d.id}/retry\`);
      const row = deliveryRow(queued);
      deliveryRows.querySelector(\`tr[data-delivery-id="\${d.id}"]\`)?.replaceWith(row);
      announce(\`The \${d.event_type} delivery is queued to be sent again.\`);
      byId("refresh-webhooks").focus();
    } catch (error) {
      button.disabled = false;
      announce(error instanceof ApiFailure ? error.message : String(error));
    }
  }
  filterForm.addEventListener("submit", (event) => {
    event.preventDefault();
    void loadDeliveries(false);
  });
  moreButton.addEventListener("click", () => void loadDeliveries(true));
  byId("refresh-webhooks").addEventListener("click", async () => {
    await Promise.all([loadEndpoints(), loadDeliveries(false)]);
    announce("Endpoints and deliveries refreshed.");
  });
  if (mayWrite) {
    byId("add-endpoint").addEventListener("click", () => {
      endpointForm.reset();
      endpointError.hidden = true;
      openDialog(endpointDialog);
    });
    endpointForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = new FormData(endpointForm);
      const description = String(data.get("description") ?? "").trim();
      try {
        const created = await api("POST", "/webhooks", {
          url: String(data.get("url") ?? "").trim(),
          events: eventList(String(data.get("events") ?? "")),
          ...description ? { description } : {}
        });
        endpointDialog.close();
        showSecret(created.secret);
        await loadEndpoints();
      } catch (error) {
        endpointError.textContent = error instanceof Error ? error.message : String(error);
        endpointError.hidden = false;
        byId("endpoint-url").focus();
      }
    });
  }
  await Promise.all([loadEndpoints(), loadDeliveries(false)]);
  revealPermitted(can);
});
`,
}
