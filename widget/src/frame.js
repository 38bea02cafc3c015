// The chat frame: everything the visitor sees and does, isolated in NovaDesk's own page.
// Messages are numbered by the server; the frame remembers the last number it has and the
// messages it could not send yet (localStorage), so that a reload or a dropped connection
// loses nothing and sends nothing twice (C6).
import { io } from "socket.io-client";
import { el, fmt, uid } from "./dom.js";

const root = document.getElementById("nd-chat");
const T = JSON.parse(document.getElementById("nd-strings").textContent);
// French typography: « ? », « : »… keep to the word before them, never start a line alone.
for (const key in T) T[key] = T[key].replace(/ ([?!:;»])/g, "\u00a0$1").replace(/« /g, "«\u00a0");
const channel = root.dataset.channel;
const allowedOrigins = JSON.parse(root.dataset.origins || "[]");
let lang = root.dataset.lang || "fr";


// --- what survives a reload --------------------------------------------------------------
let memory = {};
function storageKey() {
  return "novadesk:" + channel + ":" + (state.identity && state.identity.id ? "u:" + state.identity.id : "anonymous");
}
function load() {
  try {
    return JSON.parse(localStorage.getItem(storageKey()) || "{}");
  } catch (e) {
    return memory[storageKey()] || {};
  }
}
function save() {
  const data = { token: state.token, lastSeq: state.lastSeq, pending: state.pending };
  try {
    localStorage.setItem(storageKey(), JSON.stringify(data));
  } catch (e) {
    memory[storageKey()] = data;
  }
}

const state = {
  host: null, identity: null, socket: null, connected: false, open: false,
  token: null, lastSeq: 0, pending: [], conversation: null, hello: null,
  rendered: new Map(), agentRead: 0, typingTimer: null, myTyping: false, myTypingTimer: null,
};

// --- layout ------------------------------------------------------------------------------
// The launcher comes with the page (templates/chat/frame.html): it shows before this script.
const launcher = document.getElementById("nd-launcher");
launcher.setAttribute("aria-controls", "nd-panel");
const panel = el("section", { id: "nd-panel", class: "nd-panel", hidden: true, "aria-label": T.title, role: "dialog" });
const header = el("header", { class: "nd-header" }, [
  el("h1", { class: "nd-title", text: T.title }),
  el("button", { type: "button", class: "nd-icon-button", "aria-label": T.close_panel, title: T.close_panel, onclick: () => setOpen(false) }, "✕"),
]);
const notice = el("p", { class: "nd-notice", role: "status", "aria-live": "polite" });
const body = el("div", { class: "nd-body" });
panel.append(header, notice, body);
root.append(panel);
launcher.addEventListener("click", () => setOpen(!state.open));

// The frame is as large as the launcher's pill (and its shadow), no larger: it covers
// nothing of the host page, and clips nothing of the pill, whatever the label's length.
const PILL_MARGIN = 16;
function reportSize() {
  if (state.open) return;
  const box = launcher.getBoundingClientRect();
  if (!box.width) return;
  window.parent.postMessage({ type: "novadesk:size", open: false, width: Math.ceil(box.width) + PILL_MARGIN, height: Math.ceil(box.height) + PILL_MARGIN }, state.host || "*");
}
// The room the host page leaves (its width): a label too long for it wraps, never at its « ? ».
function setRoom(width) {
  if (typeof width === "number" && width > 0) root.style.setProperty("--nd-room", Math.max(width - PILL_MARGIN, 120) + "px");
}
if (window.ResizeObserver) new ResizeObserver(reportSize).observe(launcher);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && state.open) setOpen(false);
});

function setOpen(open) {
  state.open = open;
  panel.hidden = !open;
  launcher.hidden = open;
  launcher.setAttribute("aria-expanded", String(open));
  if (open) window.parent.postMessage({ type: "novadesk:size", open }, state.host || "*");
  else reportSize();
  if (open) {
    connect();
    setBadge(0);
    const first = panel.querySelector("textarea, input, button:not(.nd-icon-button)");
    (first || panel.querySelector("button")).focus();
    markRead();
  } else {
    launcher.focus();
  }
}
function setBadge(count) {
  const badge = launcher.querySelector(".nd-badge");
  badge.hidden = !count;
  badge.textContent = count ? String(count) : "";
}
function say(text, kind) {
  notice.textContent = text || "";
  notice.className = "nd-notice" + (kind ? " nd-notice-" + kind : "");
}

// --- the connection ----------------------------------------------------------------------
function connect() {
  if (state.socket) return;
  state.socket = io("/widget", {
    // A page that shows nothing yet asks for the whole conversation; a reconnect, for what it missed.
    auth: (cb) => cb({ channel, host: state.host, identity: state.identity, token: state.token, after: state.rendered.size ? state.lastSeq : 0, lang }),
    reconnectionDelayMax: 5000,
    // WebSocket first; where a proxy refuses it, long-polling takes over by itself.
    transports: ["websocket", "polling"],
    tryAllTransports: true,
  });
  const socket = state.socket;
  socket.on("connect", () => {
    if (state.wasConnected) say(T.reconnected);
    state.connected = true;
    state.wasConnected = true;
  });
  socket.on("disconnect", () => {
    state.connected = false;
    state.flushing = false;
    state.attempt = (state.attempt || 0) + 1;
    if (state.conversation) say(T.offline_connection, "warning");
  });
  socket.on("connect_error", (error) => {
    const message = error && error.data && error.data.message;
    if (message) {  // refused by the server: no point retrying
      socket.disconnect();
      state.socket = null;
      body.replaceChildren(el("p", { class: "nd-error", role: "alert", text: T.refused + " " + message }));
    } else {
      // WebSocket never got through (a proxy that lets the upgrade fail or cuts it): the next
      // attempts start on long-polling, which upgrades by itself wherever it can.
      if (!state.wasConnected) socket.io.opts.transports = ["polling", "websocket"];
      if (state.conversation) say(T.offline_connection, "warning");
    }
  });
  socket.on("hello", onHello);
  socket.on("message", (message) => receive([message]));
  socket.on("typing", (data) => showTyping(data));
  socket.on("read", (data) => {
    state.agentRead = Math.max(state.agentRead, data.seq || 0);
    showReceipts();
  });
  socket.on("state", (data) => {
    if (!state.conversation) return;
    Object.assign(state.conversation, { status: data.status, agent_name: data.agent_name, ticket: data.ticket, open: data.status === "waiting" || data.status === "active" });
    showStatus();
  });
}

function onHello(hello) {
  state.hello = hello;
  if (hello.conversation) {
    state.conversation = hello.conversation;
    state.agentRead = hello.conversation.agent_read_seq || 0;
    if (!state.transcript) showConversation();
    receive(hello.messages || []);
    showStatus();
    flushPending();
  } else {
    if (state.token) {  // the server no longer knows it: start afresh
      state.token = null;
      state.lastSeq = 0;
      state.pending = [];
      save();
    }
    if (!state.transcript && !state.startForm) showStart();
  }
}

// --- before the chat: the question, suggestions, or the offline form (C4) ----------------
function field(label, input) {
  const id = "nd-" + uid();
  input.id = id;
  return el("div", { class: "nd-field" }, [el("label", { for: id, text: label }), input]);
}

function showStart() {
  const hello = state.hello || {};
  const form = el("form", { class: "nd-start", novalidate: true });
  const question = el("textarea", { name: "question", rows: "3", required: true, maxlength: "4000" });
  const name = el("input", { name: "name", type: "text", autocomplete: "name", required: true, maxlength: "200" });
  const email = el("input", { name: "email", type: "email", autocomplete: "email", required: true, maxlength: "254" });
  const suggestions = el("div", { class: "nd-suggestions", "aria-live": "polite" });
  const unavailable = !hello.available;
  form.append(el("p", { class: "nd-intro", text: unavailable ? hello.unavailable + " " + T.unavailable_help : T.intro }));
  if (unavailable) form.append(el("h2", { class: "nd-subtitle", text: T.unavailable_title }));
  form.append(field(T.question, question), suggestions);
  if (!hello.identified) form.append(field(T.name, name), field(T.email, email));
  const submit = el("button", { type: "submit", class: "nd-primary", text: unavailable ? T.leave : T.start });
  form.append(submit);
  let timer = null;
  question.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => suggest(question.value, suggestions), 350);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit.disabled = true;
    const data = { question: question.value, name: name.value, email: email.value, client_id: uid() };
    const done = (answer) => {
      submit.disabled = false;
      if (answer && answer.offline) {
        state.hello.available = false;
        state.hello.unavailable = answer.error;
        state.startForm = null;
        showStart();
        return;
      }
      if (!answer || answer.error) {
        say(answer ? answer.error : T.offline_connection, "error");
        return;
      }
      if (unavailable) {
        body.replaceChildren(el("p", { class: "nd-done", role: "status", text: fmt(T.left, { ticket: answer.ticket }) }));
        return;
      }
      state.token = answer.token;
      state.conversation = answer.conversation;
      state.startForm = null;
      save();
      showConversation();
      receive([answer.message]);
      showStatus();
    };
    if (unavailable) {
      state.socket.timeout(10000).emit("leave_message", { body: question.value, name: name.value, email: email.value }, (err, answer) => done(err ? null : answer));
    } else {
      state.socket.timeout(10000).emit("start", data, (err, answer) => done(err ? null : answer));
    }
  });
  state.startForm = form;
  body.replaceChildren(form);
  if (state.open) question.focus();
}

function suggest(text, box) {
  const query = text.trim();
  if (query.length < 3) {
    box.replaceChildren();
    return;
  }
  fetch(root.dataset.suggest + "?channel=chat&q=" + encodeURIComponent(query), { headers: { Accept: "application/json" } })
    .then((response) => (response.ok ? response.json() : { articles: [] }))
    .then((data) => {
      if (!data.articles || !data.articles.length) {
        box.replaceChildren();
        return;
      }
      box.replaceChildren(
        el("p", { text: T.suggestions }),
        el("ul", {}, data.articles.map((a) => el("li", {}, el("a", { href: a.url, target: "_blank", rel: "noopener", text: a.title })))),
      );
    })
    .catch(() => box.replaceChildren());
}

// --- the conversation ----------------------------------------------------------------------
function showConversation() {
  state.rendered = new Map();
  const log = el("ol", { class: "nd-log", "aria-live": "polite", "aria-relevant": "additions", tabindex: "0", "aria-label": T.title });
  const typing = el("p", { class: "nd-typing", "aria-live": "polite" });
  const status = el("p", { class: "nd-status", role: "status" });
  const form = el("form", { class: "nd-compose" });
  const text = el("textarea", { name: "message", rows: "2", maxlength: "4000", "aria-label": T.message, placeholder: T.message });
  const fileInput = el("input", { type: "file", class: "nd-file", id: "nd-file", accept: "image/*,.pdf,.txt,.csv,.doc,.docx,.xls,.xlsx,.odt,.ods,.zip" });
  const fileLabel = el("label", { for: "nd-file", class: "nd-attach", title: T.attach, text: T.attach });
  const send = el("button", { type: "submit", class: "nd-primary", text: T.send });
  const end = el("button", { type: "button", class: "nd-link", text: T.end, onclick: endConversation });
  form.append(text, el("div", { class: "nd-compose-actions" }, [fileInput, fileLabel, end, send]));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = text.value.trim();
    if (!value) return;
    text.value = "";
    queueMessage({ body: value });
    stopTyping();
  });
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  text.addEventListener("input", startTyping);
  fileInput.addEventListener("change", () => {
    if (fileInput.files[0]) uploadFile(fileInput.files[0]);
    fileInput.value = "";
  });
  state.transcript = { log, typing, status, form, text };
  for (const message of state.pending) showPending(message);  // left unsent before a reload
  body.replaceChildren(status, log, typing, form);
  if (state.open) text.focus();
}

function showStatus() {
  if (!state.transcript || !state.conversation) return;
  const c = state.conversation;
  let text = "";
  if (c.status === "waiting") text = T.waiting;
  else if (c.status === "active" && c.agent_name) text = fmt(T.joined, { name: c.agent_name });
  else if (c.status === "closed" || c.status === "offline") text = T.ended;
  if (c.ticket) text += " " + fmt(T.ticket, { ticket: c.ticket });
  state.transcript.status.textContent = text;
  if (!c.open && c.status !== undefined && !state.rating) showRating();
}

function receive(messages) {
  if (!state.transcript) return;
  let fresh = 0;
  for (const message of messages) {
    if (!message || message.conversation_id !== (state.conversation && state.conversation.id)) continue;
    if (message.client_id) {
      const before = state.pending.length;
      state.pending = state.pending.filter((p) => p.client_id !== message.client_id);
      if (state.pending.length !== before) save();
      const waiting = state.transcript.log.querySelector('[data-client-id="' + CSS.escape(message.client_id) + '"]');
      if (waiting) waiting.remove();
    }
    if (state.rendered.has(message.seq)) continue;
    if (message.seq > state.lastSeq + 1 && state.lastSeq > 0 && state.connected) {
      // A gap: ask for what is missing, then this one comes again in order.
      sync();
    }
    const item = renderMessage(message);
    state.rendered.set(message.seq, item);
    insertInOrder(item, message.seq);
    if (message.seq > state.lastSeq) state.lastSeq = message.seq;
    if (message.author_kind === "agent") fresh += 1;
  }
  save();
  showReceipts();
  state.transcript.log.scrollTop = state.transcript.log.scrollHeight;
  if (fresh && !state.open) setBadge(fresh);
  markRead();
}

function insertInOrder(item, seq) {
  const log = state.transcript.log;
  const after = [...log.children].find((child) => child.dataset.seq && Number(child.dataset.seq) > seq);
  if (after) log.insertBefore(item, after);
  else {
    const firstPending = log.querySelector(".nd-pending");
    if (firstPending) log.insertBefore(item, firstPending);
    else log.append(item);
  }
}

function renderMessage(message) {
  const mine = message.author_kind === "visitor";
  const kind = message.author_kind === "system" ? "system" : mine ? "mine" : "theirs";
  const item = el("li", { class: "nd-message nd-" + kind, "data-seq": message.seq || null, "data-client-id": message.seq ? null : message.client_id });
  if (kind !== "system") item.append(el("span", { class: "nd-author", text: mine ? T.you : message.author_name || T.agent }));
  if (message.body) item.append(el("p", { class: "nd-text", text: message.body }));  // text, never markup
  if (message.file) {
    const link = el("a", { href: message.file.url, target: "_blank", rel: "noopener", class: "nd-filelink" });
    if (message.file.is_image) link.append(el("img", { src: message.file.url, alt: message.file.name, loading: "lazy" }));
    else link.textContent = message.file.name;
    item.append(link);
  }
  if (message.created_on) {
    const when = new Date(message.created_on);
    item.append(el("time", { datetime: message.created_on, text: when.toLocaleTimeString(lang === "en" ? "en-GB" : "fr-FR", { hour: "2-digit", minute: "2-digit" }) }));
  }
  return item;
}

function showReceipts() {
  if (!state.transcript) return;
  state.transcript.log.querySelectorAll(".nd-receipt").forEach((node) => node.remove());
  const mine = [...state.transcript.log.querySelectorAll(".nd-mine[data-seq]")].filter((node) => Number(node.dataset.seq) <= state.agentRead);
  const last = mine[mine.length - 1];
  if (last) last.append(el("span", { class: "nd-receipt", text: "✓ " + T.read }));
}

function markRead() {
  if (!state.open || !state.socket || !state.connected || !state.conversation || document.hidden) return;
  if (state.lastSeq > (state.readSent || 0)) {
    state.readSent = state.lastSeq;
    state.socket.emit("read", { seq: state.lastSeq });
  }
}
document.addEventListener("visibilitychange", markRead);

function sync() {
  if (state.syncing) return;
  state.syncing = true;
  state.socket.timeout(10000).emit("sync", { after: state.lastSeq }, (err, answer) => {
    state.syncing = false;
    if (!err && answer && answer.messages) receive(answer.messages);
  });
}

// Sending: shown at once as "pending", stored locally, sent when connected. A message shows
// as sent only once the server acknowledged storing it (the pending copy then gives way to
// the stored one); the server keeps the first copy of a client_id, so a resend after a drop
// is harmless.
function queueMessage(message) {
  message.client_id = uid();
  state.pending.push(message);
  save();
  showPending(message);
  state.transcript.log.scrollTop = state.transcript.log.scrollHeight;
  flushPending();
}

function showPending(message) {
  const item = renderMessage({ author_kind: "visitor", body: message.body, client_id: message.client_id, file: message.file_preview });
  item.classList.add("nd-pending");
  item.append(el("span", { class: "nd-receipt-pending", text: T.pending }));
  state.transcript.log.append(item);
}

// One at a time, oldest first, each after the acknowledgement of the one before: the
// messages typed during an outage reach the agent in the order they were written.
function flushPending() {
  if (state.flushing || !state.socket || !state.connected || !state.conversation || !state.conversation.open) return;
  const message = state.pending[0];
  if (!message) return;
  const attempt = (state.attempt = (state.attempt || 0) + 1);
  state.flushing = true;
  state.socket.timeout(10000).emit("message", { body: message.body, client_id: message.client_id, file_id: message.file_id }, (err, answer) => {
    if (attempt !== state.attempt) return;  // the link dropped meanwhile: a newer attempt took over
    state.flushing = false;
    if (err || !answer) return;  // no acknowledgement: still pending, sent again on reconnect
    if (answer.error) {
      say(answer.error, "error");
      if (answer.flood) {
        setTimeout(flushPending, 3000);
        return;
      }
      // Refused for good (too long, conversation over…): say so on the message itself.
      state.pending = state.pending.filter((p) => p.client_id !== message.client_id);
      save();
      const item = state.transcript && state.transcript.log.querySelector('[data-client-id="' + CSS.escape(message.client_id) + '"]');
      if (item) {
        item.classList.replace("nd-pending", "nd-failed");
        item.querySelector(".nd-receipt-pending").textContent = T.not_sent;
      }
    } else {
      receive([answer.message]);
    }
    flushPending();
  });
}
// (Re)connected and told which conversation: send what waited.
setInterval(flushPending, 5000);

function startTyping() {
  if (!state.socket || !state.connected) return;
  if (!state.myTyping) {
    state.myTyping = true;
    state.socket.emit("typing", { on: true });
  }
  clearTimeout(state.myTypingTimer);
  state.myTypingTimer = setTimeout(stopTyping, 3000);
}
function stopTyping() {
  clearTimeout(state.myTypingTimer);
  if (state.myTyping && state.socket) state.socket.emit("typing", { on: false });
  state.myTyping = false;
}
function showTyping(data) {
  if (!state.transcript) return;
  clearTimeout(state.typingTimer);
  state.transcript.typing.textContent = data.on ? fmt(T.typing, { name: data.name || T.agent }) : "";
  if (data.on) state.typingTimer = setTimeout(() => (state.transcript.typing.textContent = ""), 6000);
}

function uploadFile(file) {
  say(T.sending_file);
  const form = new FormData();
  form.append("file", file);
  fetch(root.dataset.upload, { method: "POST", body: form, headers: { "X-Channel": channel, "X-Conversation-Token": state.token || "" } })
    .then((response) => response.json().then((data) => ({ ok: response.ok, data })))
    .then(({ ok, data }) => {
      if (!ok) {
        say(data.error || T.file_too_big, "error");
        return;
      }
      say("");
      queueMessage({ body: "", file_id: data.file_id, file_preview: { name: data.name, url: "#", is_image: false } });
    })
    .catch(() => say(T.offline_connection, "error"));
}

function endConversation() {
  if (!state.socket) return;
  state.socket.timeout(10000).emit("close", {}, (err, answer) => {
    if (!err && answer && answer.conversation) {
      state.conversation = answer.conversation;
      showStatus();
    }
  });
}

// --- the end: a rating (feeds the satisfaction figures) and a new chat ---------------------
function showRating() {
  const form = el("form", { class: "nd-rating" });
  const fieldset = el("fieldset", {}, [el("legend", { text: T.rate })]);
  const stars = el("div", { class: "nd-stars" });
  for (let n = 1; n <= 5; n++) {
    const id = "nd-star-" + n;
    stars.append(el("input", { type: "radio", name: "score", value: String(n), id }), el("label", { for: id, title: fmt(T.stars, { n }) }, [el("span", { "aria-hidden": "true", text: "★" }), el("span", { class: "nd-sr", text: fmt(T.stars, { n }) })]));
  }
  fieldset.append(stars);
  const comment = el("textarea", { name: "comment", rows: "2", maxlength: "1000" });
  form.append(fieldset, field(T.comment, comment), el("button", { type: "submit", class: "nd-primary", text: T.rate_send }));
  const again = el("button", { type: "button", class: "nd-link", text: T.new, onclick: newConversation });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = form.querySelector("input[name=score]:checked");
    if (!chosen) return;
    state.socket.timeout(10000).emit("rate", { score: Number(chosen.value), comment: comment.value }, (err, answer) => {
      if (!err && answer && answer.ok) form.replaceChildren(el("p", { class: "nd-done", role: "status", text: T.thanks }));
      else say(answer ? answer.error : T.offline_connection, "error");
    });
  });
  state.rating = form;
  state.transcript.form.replaceWith(form);
  form.after(again);
}

function newConversation() {
  state.socket.timeout(10000).emit("new", {}, (err, answer) => {
    state.token = null;
    state.lastSeq = 0;
    state.pending = [];
    state.conversation = null;
    state.transcript = null;
    state.rating = null;
    save();
    if (!err && answer) state.hello.available = answer.available;
    showStart();
  });
}

// --- talking to the host page's loader -------------------------------------------------------
function begin(identity) {
  state.identity = identity && typeof identity === "object" ? identity : null;
  const saved = load();
  state.token = saved.token || null;
  state.lastSeq = 0;
  state.pending = (saved.pending || []).map((p) => Object.assign(p, { inflight: false }));
  if (state.token) connect();  // a conversation in progress: hear from the agent at once
}

window.addEventListener("message", (event) => {
  if (event.source !== window.parent || !allowedOrigins.includes(event.origin)) return;
  const data = event.data || {};
  if (data.type === "novadesk:init") {
    state.host = event.origin;  // told by the browser, not by the page
    if (data.lang === "en" || data.lang === "fr") lang = data.lang;
    setRoom(data.room);
    reportSize();
    begin(data.identity);
    if (window.__ndOpenRequested && !state.open) setOpen(true);  // clicked before this script ran
  } else if (data.type === "novadesk:identify") {
    if (state.socket) {
      state.socket.disconnect();
      state.socket = null;
    }
    state.transcript = null;
    state.startForm = null;
    begin(data.identity);
    if (state.open) connect();
  } else if (data.type === "novadesk:room") setRoom(data.room);
  else if (data.type === "novadesk:open") setOpen(true);
  else if (data.type === "novadesk:close") setOpen(false);
});
if (window.parent !== window) window.parent.postMessage({ type: "novadesk:ready" }, "*");
