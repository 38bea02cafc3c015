/* The ticket page's live part (tickets/_presence.html): « Fatou Ndiaye consulte aussi ce
   ticket » / « … est en train de répondre » from novadesk:presence, one's own writing told
   to the others, and the page brought up to date when a colleague changes the ticket or when
   the link comes back after a cut (novadesk:ticket, novadesk:resync). */
(function () {
  "use strict";
  var box = document.getElementById("nd-presence");
  var live = window.NovaDeskLive;
  if (!box || !live) return;
  var S = JSON.parse(document.getElementById("nd-presence-strings").textContent);
  var ticketId = Number(box.dataset.ticketId);
  var lang = document.documentElement.lang || "fr";
  var others = [];
  var notice = "";
  var offline = false;

  function names(list) {
    var words = list.map(function (v) { return v.name; });
    try {
      return new Intl.ListFormat(lang, { style: "long", type: "conjunction" }).format(words);
    } catch (e) {
      return words.join(", ");
    }
  }

  function line(list, one, many) {
    return (list.length > 1 ? many : one).replace("{names}", names(list));
  }

  function render() {
    var writing = others.filter(function (v) { return v.composing; });
    var reading = others.filter(function (v) { return !v.composing; });
    var parts = [];
    if (writing.length) parts.push({ text: line(writing, S.writing_one, S.writing_many), cls: "nd-presence-writing" });
    if (reading.length) parts.push({ text: line(reading, S.viewing_one, S.viewing_many), cls: "nd-presence-viewing" });
    if (offline) parts.push({ text: S.offline, cls: "nd-presence-offline" });
    if (notice) parts.push({ text: notice, cls: "nd-presence-changed" });
    box.replaceChildren.apply(box, parts.map(function (p) {
      var el = document.createElement("p");
      el.className = p.cls;
      el.textContent = p.text;
      return el;
    }));
    if (notice === S.changed_reload) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-default btn-sm";
      button.textContent = S.reload;
      button.addEventListener("click", function () { window.location.reload(); });
      box.lastChild.append(" ", button);
    }
  }

  /* Read the page again and put in place what shows the ticket's state (title, status,
     history); the forms, and what is being written in them, stay as they are. */
  var PARTS = [".nd-page-head", ".nd-details", ".nd-timeline"];
  var reading = null;
  function catchUp() {
    if (reading) return reading;
    reading = fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var replaced = 0;
        PARTS.forEach(function (selector) {
          var now = document.querySelector(selector), then = fresh.querySelector(selector);
          if (now && then) {
            if (now.innerHTML !== then.innerHTML) now.replaceChildren.apply(now, Array.from(then.childNodes).map(function (n) { return document.adoptNode(n); }));
            replaced += 1;
          }
        });
        return replaced === PARTS.length;
      })
      .catch(function () { return false; })
      .finally(function () { reading = null; });
    return reading;
  }

  var typingTimer = null;
  function composer(target) {
    return target && target.tagName === "TEXTAREA" && target.closest("form[action$='/reply'], [data-nd-composer]");
  }
  document.addEventListener("input", function (event) {
    if (!composer(event.target)) return;
    live.composing(ticketId, event.target.value.trim() !== "");
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { live.composing(ticketId, false); }, 8000);
  });
  document.addEventListener("submit", function (event) {
    if (event.target.matches("form[action$='/reply'], [data-nd-composer]")) live.composing(ticketId, false);
  });

  live.on("presence", function (detail) {
    if (detail.ticket_id !== ticketId) return;
    others = detail.viewers;
    render();
  });
  live.on("ticket", function (detail) {
    if (detail.ticket_id !== ticketId || (live.me && detail.actor_id === live.me.id)) return;
    catchUp().then(function (done) {
      notice = done ? S.changed : S.changed_reload;
      render();
    });
  });
  live.on("offline", function () { offline = true; render(); });
  live.on("online", function () { if (offline) { offline = false; render(); } });
  live.on("resync", function () {
    catchUp().then(function (done) { if (!done) { notice = S.changed_reload; render(); } });
  });

  live.connect();
  live.viewing(ticketId);
})();
