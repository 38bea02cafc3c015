// The agents' console (C2): lists kept live by Socket.IO, one conversation at a time in the
// middle, the client's context beside it. Every action is checked again by the server.
import { io } from "socket.io-client";
import { el, fmt, uid } from "./dom.js";
import { exact, refresh, timeElement } from "./when.js";

const root = document.getElementById("nd-console");
const data = JSON.parse(document.getElementById("nd-console-data").textContent);
const S = data.strings;
const $ = (id) => document.getElementById(id);
const staff = root.dataset.staff === "true";
const lang = data.lang || document.documentElement.lang || "fr";
const timeZone = data.timezone || undefined;
setInterval(() => refresh(document, lang, timeZone), 30000);

function url(name, id) {
  return root.dataset[name].replace(/\/0(\/|$)/, "/" + id + "$1");
}

const state = { me: null, conversations: new Map(), selected: null, messages: new Map(), unread: new Map(), lastSeq: new Map(), typingTimer: null, myTyping: false };
const socket = io("/console");

socket.on("connect", () => { $("nd-connection").textContent = S.connected; });
socket.on("disconnect", () => { $("nd-connection").textContent = S.disconnected; });
socket.on("connect_error", (error) => {
  const message = error && error.data && error.data.message;
  $("nd-connection").textContent = message ? S.refused + " " + message : S.disconnected;
});
socket.on("snapshot", (snapshot) => {
  state.me = snapshot.me;
  state.conversations = new Map(snapshot.conversations.map((c) => [c.id, c]));
  const available = $("nd-available");
  if (available) available.checked = !!snapshot.me.available;
  renderLists();
  if (state.selected) openConversation(state.selected, true);  // a reconnect: catch up
});
socket.on("conversation", (conversation) => {
  const known = state.conversations.get(conversation.id);
  state.conversations.set(conversation.id, conversation);
  if (!known && conversation.status === "waiting") announce(fmt(S.new_waiting, { name: conversation.visitor, org: conversation.organisation }));
  if (conversation.agent_id === (state.me && state.me.id) && conversation.open && (!known || known.agent_id !== conversation.agent_id)) {
    socket.emit("open", { conversation_id: conversation.id, after: state.lastSeq.get(conversation.id) || 0 }, () => {});  // joins its room (transferred to me)
  }
  renderLists();
  if (state.selected === conversation.id) renderHead();
});
socket.on("message", (message) => {
  addMessages(message.conversation_id, [message]);
  if (message.conversation_id !== state.selected && message.author_kind === "visitor") {
    state.unread.set(message.conversation_id, (state.unread.get(message.conversation_id) || 0) + 1);
    renderLists();
  }
});
socket.on("typing", (typing) => {
  if (typing.conversation_id !== state.selected) return;
  clearTimeout(state.typingTimer);
  const c = state.conversations.get(typing.conversation_id);
  $("nd-typing").textContent = typing.on ? fmt(S.typing, { name: (c && c.visitor) || S.visitor }) : "";
  if (typing.on) state.typingTimer = setTimeout(() => ($("nd-typing").textContent = ""), 6000);
});
socket.on("read", (read) => {
  const c = state.conversations.get(read.conversation_id);
  if (c) c.visitor_read_seq = Math.max(c.visitor_read_seq || 0, read.seq);
  if (read.conversation_id === state.selected) renderReceipts();
});
setInterval(() => socket.connected && socket.emit("heartbeat", {}), 30000);
setInterval(renderLists, 15000);  // waiting times

function announce(text) {
  const live = $("nd-connection");
  live.textContent = text;
  if (document.hidden) document.title = "(!) " + document.title.replace(/^\(!\) /, "");
}
document.addEventListener("visibilitychange", () => { if (!document.hidden) document.title = document.title.replace(/^\(!\) /, ""); });

// --- the lists ---------------------------------------------------------------------------------
function since(iso) {
  const seconds = (Date.now() - new Date(iso).getTime()) / 1000;
  return seconds < 60 ? S.seconds : fmt(S.minutes, { n: Math.floor(seconds / 60) });
}
function renderLists() {
  const me = state.me ? state.me.id : null;
  const waiting = [], mine = [], others = [];
  for (const c of [...state.conversations.values()].sort((a, b) => a.started_on.localeCompare(b.started_on))) {
    if (!c.open) continue;
    if (c.status === "waiting") waiting.push(c);
    else if (c.agent_id === me || !staff) mine.push(c);
    else others.push(c);
  }
  fill($("nd-waiting"), waiting, (c) => fmt(S.waiting_for, { time: since(c.started_on) }));
  fill($("nd-mine"), mine, (c) => (staff ? "" : fmt(S.active_with, { name: c.agent_name || "—" })));
  fill($("nd-others"), others, (c) => fmt(S.active_with, { name: c.agent_name || "—" }));
  $("nd-others").hidden = $("h-others").hidden = !others.length;
  $("nd-waiting-count").textContent = String(waiting.length);
  if (state.me && staff) $("nd-load").textContent = fmt(S.load, { n: mine.length, limit: state.me.limit });
  if (state.selected && !state.conversations.has(state.selected)) closeView();
}
function fill(list, items, meta) {
  list.replaceChildren(...(items.length ? items.map((c) => {
    const unread = state.unread.get(c.id);
    const button = el("button", { type: "button", "aria-current": state.selected === c.id ? "true" : "false", onclick: () => openConversation(c.id) }, [
      unread ? el("span", { class: "nd-unread", text: String(unread), "aria-label": String(unread) }) : null,
      el("span", { class: "nd-conv-name", text: c.visitor }),
      el("span", { class: "nd-conv-meta", text: c.organisation + (meta(c) ? " — " + meta(c) : "") }),
    ]);
    return el("li", {}, button);
  }) : [el("li", { class: "text-muted", text: S.none })]));
}

// --- one conversation ---------------------------------------------------------------------------
function openConversation(id, refresh) {
  if (state.selected && state.selected !== id) socket.emit("leave", { conversation_id: state.selected }, () => {});
  state.selected = id;
  state.unread.delete(id);
  if (!refresh) {
    state.messages.set(id, new Map());
    state.lastSeq.set(id, 0);
    $("nd-log").replaceChildren();
  }
  $("nd-empty").hidden = true;
  $("nd-chat").hidden = false;
  socket.emit("open", { conversation_id: id, after: state.lastSeq.get(id) || 0 }, (answer) => {
    if (answer.error) return showError(answer.error);
    state.conversations.set(id, answer.conversation);
    addMessages(id, answer.messages);
    renderHead();
    renderLists();
  });
  loadContext(id);
  renderHead();
  renderLists();
}
function closeView() {
  state.selected = null;
  $("nd-chat").hidden = true;
  $("nd-empty").hidden = false;
}

function renderHead() {
  const c = state.conversations.get(state.selected);
  if (!c) return;
  $("nd-chat-title").textContent = c.visitor + " — " + c.organisation;
  const status = { waiting: S.status_waiting, active: fmt(S.status_active, { name: c.agent_name || "—" }), closed: S.status_closed, offline: S.status_offline }[c.status] || "";
  $("nd-chat-status").textContent = status + (c.ticket ? " · " + fmt(S.ticket_made, { number: c.ticket }) : "") + (c.rating ? " · " + fmt(S.rating, { n: c.rating }) : "");
  const mine = state.me && c.agent_id === state.me.id && c.status === "active";
  const canManage = staff && c.open && (mine || (state.me && state.me.watches_all));
  $("nd-accept").hidden = !(staff && c.status === "waiting");
  $("nd-compose").hidden = !mine;
  $("nd-manage").hidden = !canManage;
  $("nd-ticket-tools").hidden = !(staff && !c.ticket);
  const result = $("nd-ticket-result");
  if (c.ticket && c.ticket_url) result.replaceChildren(S.linked + " ", el("a", { href: c.ticket_url, text: c.ticket }));
  else if (!c.ticket) result.replaceChildren();
}

function addMessages(id, messages) {
  if (!state.messages.has(id)) return;  // not open here: the list shows it as unread
  const known = state.messages.get(id);
  let last = state.lastSeq.get(id) || 0;
  for (const m of messages) {
    if (known.has(m.seq)) continue;
    known.set(m.seq, m);
    if (m.seq > last) last = m.seq;
  }
  state.lastSeq.set(id, last);
  if (id !== state.selected) return;
  const log = $("nd-log");
  log.replaceChildren(...[...known.values()].sort((a, b) => a.seq - b.seq).map(renderMessage));
  renderReceipts();
  log.scrollTop = log.scrollHeight;
  const c = state.conversations.get(id);
  if (c && state.me && c.agent_id === state.me.id && !document.hidden) socket.emit("read", { conversation_id: id, seq: last }, () => {});
}
function renderMessage(m) {
  const item = el("li", { class: "nd-from-" + m.author_kind, "data-seq": m.seq });
  if (m.author_kind !== "system") item.append(el("span", { class: "nd-who", text: m.author_kind === "agent" && state.me && m.author_name === state.me.name ? S.you : m.author_name || S.visitor }));
  if (m.body) item.append(el("p", { text: m.body }));
  if (m.file) {
    const link = el("a", { href: m.file.url, target: "_blank", rel: "noopener" });
    if (m.file.is_image) link.append(el("img", { src: m.file.url, alt: m.file.name }));
    else link.textContent = m.file.name;
    item.append(link);
  }
  item.append(timeElement(m.created_on, lang, timeZone));
  return item;
}
function renderReceipts() {
  const c = state.conversations.get(state.selected);
  if (!c) return;
  document.querySelectorAll("#nd-log .nd-read").forEach((n) => n.remove());
  const mine = [...document.querySelectorAll("#nd-log .nd-from-agent")].filter((n) => Number(n.dataset.seq) <= (c.visitor_read_seq || 0));
  if (mine.length) mine[mine.length - 1].append(el("span", { class: "nd-read", text: "✓ " + S.read }));
}

function loadContext(id) {
  fetch(url("contextUrl", id), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((r) => (r.ok ? r.json() : null))
    .then((context) => {
      if (!context || state.selected !== id) return;
      const c = context.conversation;
      const box = $("nd-context");
      box.replaceChildren(
        el("dl", {}, [
          el("dt", { text: S.visitor }), el("dd", { text: c.visitor + (c.visitor_email ? " <" + c.visitor_email + ">" : "") + " — " + (c.identified ? S.identified : S.anonymous) }),
          el("dt", { text: S.organisation }), el("dd", {}, el("a", { href: context.organisation.url, text: context.organisation.name })),
        ]),
        el("h3", { class: "h5", text: S.open_tickets }),
        context.open_tickets.length ? el("ul", {}, context.open_tickets.map((t) => el("li", {}, [el("a", { href: t.url, text: t.number }), " " + t.title + " (" + t.status + ")"]))) : el("p", { class: "text-muted", text: S.none }),
        el("h3", { class: "h5", text: S.past }),
        context.past_conversations.length ? el("ul", {}, context.past_conversations.map((p) => el("li", {}, el("a", { href: p.url, text: exact(p.started_on, lang, timeZone) })))) : el("p", { class: "text-muted", text: S.none }),
      );
    });
}

function showError(message) {
  $("nd-connection").textContent = S.error + " " + message;
}

// --- actions -------------------------------------------------------------------------------------
$("nd-accept").addEventListener("click", () => {
  const id = state.selected;
  socket.emit("accept", { conversation_id: id }, (answer) => {
    if (answer.error) return showError(answer.error);
    state.conversations.set(id, answer.conversation);
    addMessages(id, answer.messages);
    renderHead();
    renderLists();
    $("nd-text").focus();
  });
});
$("nd-compose").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("nd-text");
  const body = text.value.trim();
  if (!body) return;
  send({ body });
  text.value = "";
  stopTyping();
});
function send(payload) {
  const id = state.selected;
  socket.emit("message", Object.assign({ conversation_id: id, client_id: uid() }, payload), (answer) => {
    if (answer.error) return showError(answer.error);
    addMessages(id, [answer.message]);
  });
}
$("nd-text").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    $("nd-compose").requestSubmit();
  }
});
$("nd-text").addEventListener("input", () => {
  if (!state.myTyping) {
    state.myTyping = true;
    socket.emit("typing", { conversation_id: state.selected, on: true });
  }
  clearTimeout(state.myTypingTimeout);
  state.myTypingTimeout = setTimeout(stopTyping, 3000);
});
function stopTyping() {
  if (state.myTyping) socket.emit("typing", { conversation_id: state.selected, on: false });
  state.myTyping = false;
}
function insert(text) {
  const area = $("nd-text");
  const start = area.selectionStart || area.value.length;
  area.value = area.value.slice(0, start) + text + area.value.slice(area.selectionEnd || start);
  area.focus();
}
const canned = $("nd-canned");
if (canned) canned.addEventListener("change", () => {
  const chosen = data.canned[Number(canned.value)];
  if (chosen) {
    const c = state.conversations.get(state.selected);
    insert(chosen.body.replace(/\{client\}/g, c ? c.visitor : "").replace(/\{ticket\}/g, c && c.ticket ? c.ticket : ""));
  }
  canned.value = "";
});
let kbTimer = null;
let kbFound = [];
$("nd-kb").addEventListener("input", () => {
  const value = $("nd-kb").value;
  const hit = kbFound.find((a) => a.title === value);
  if (hit) {
    insert(hit.title + " : " + hit.url);
    $("nd-kb").value = "";
    return;
  }
  clearTimeout(kbTimer);
  kbTimer = setTimeout(() => {
    if (value.trim().length < 3 || !state.selected) return;
    fetch(url("articlesUrl", state.selected) + "?q=" + encodeURIComponent(value), { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : { articles: [] }))
      .then((found) => {
        kbFound = found.articles;
        $("nd-kb-results").replaceChildren(...kbFound.map((a) => el("option", { value: a.title })));
      });
  }, 300);
});
$("nd-file").addEventListener("change", () => {
  const file = $("nd-file").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("file", file);
  fetch(url("uploadUrl", state.selected), { method: "POST", body: form, credentials: "same-origin", headers: { "X-CSRFToken": root.dataset.csrf } })
    .then((r) => r.json())
    .then((answer) => (answer.error ? showError(answer.error) : send({ body: "", file_id: answer.file_id })));
  $("nd-file").value = "";
});
$("nd-transfer").addEventListener("submit", (event) => {
  event.preventDefault();
  const [kind, value] = $("nd-transfer-to").value.split(":");
  const payload = { conversation_id: state.selected };
  if (kind === "agent") payload.agent_id = value;
  else payload.queue_id = value || null;
  socket.emit("transfer", payload, (answer) => {
    if (answer.error) return showError(answer.error);
    state.conversations.set(answer.conversation.id, answer.conversation);
    renderLists();
    renderHead();
  });
});
$("nd-close").addEventListener("click", () => {
  socket.emit("close", { conversation_id: state.selected }, (answer) => {
    if (answer.error) return showError(answer.error);
    state.conversations.set(answer.conversation.id, answer.conversation);
    renderHead();
    renderLists();
  });
});
function ticketAction(name, fields) {
  const body = new URLSearchParams(fields);
  fetch(url(name, state.selected), { method: "POST", body, credentials: "same-origin", headers: { "X-CSRFToken": root.dataset.csrf } })
    .then((r) => r.json())
    .then((answer) => {
      if (answer.error) return showError(answer.error);
      const c = state.conversations.get(state.selected);
      if (c) Object.assign(c, { ticket: answer.ticket, ticket_url: answer.url });
      renderHead();
    });
}
$("nd-to-ticket").addEventListener("submit", (event) => {
  event.preventDefault();
  ticketAction("ticketUrl", { title: $("nd-ticket-title").value });
});
$("nd-attach").addEventListener("submit", (event) => {
  event.preventDefault();
  ticketAction("attachUrl", { ticket: $("nd-attach-number").value });
});
const availability = $("nd-available");
if (availability) availability.addEventListener("change", () => socket.emit("status", { available: availability.checked }, () => {}));
