/* The agents' workspace (/tickets/): opens tickets in the right pane without a page load
   (fetch + History API), saves inline controls at once, sends from one composer, keeps
   drafts, runs bulk actions, answers the keyboard, and follows the desk's live events. */
(function () {
  "use strict";
  var root = document.getElementById("workspace");
  if (!root || !window.fetch) { return; }

  var base = root.getAttribute("data-base");
  var csrf = root.getAttribute("data-csrf");
  var queueBody = document.getElementById("ws-queue-body");
  var pane = document.getElementById("ws-pane");
  var live = function () { return window.NovaDeskLive || null; };
  var openId = root.getAttribute("data-open") || null;
  var queueArgs = location.search.replace(/^\?/, "");
  var offline = !live();
  var pollTimer = null;

  // --- small helpers --------------------------------------------------------------------------

  function request(url, options) {
    options = options || {};
    options.credentials = "same-origin";
    options.headers = Object.assign({"X-Requested-With": "fetch", "X-CSRFToken": csrf}, options.headers || {});
    return fetch(url, options);
  }

  function parse(html) {
    var holder = document.createElement("div");
    holder.innerHTML = html;
    return holder;
  }

  function say(message, refused) {
    var target = document.getElementById("ws-feedback");
    if (!target) { return; }
    target.textContent = message || "";
    target.className = "ws-feedback" + (refused ? " ws-refused" : " ws-done");
  }

  function answer(response) {
    return response.json().catch(function () { return {}; }).then(function (data) {
      if (!response.ok) { throw new Error(data.error || root.getAttribute("data-error")); }
      return data;
    });
  }

  function typing(event) {
    var el = event.target;
    if (!el || !el.tagName) { return false; }
    var tag = el.tagName.toLowerCase();
    return el.isContentEditable || tag === "textarea" || tag === "select" || (tag === "input" && !/^(checkbox|radio|button|submit)$/.test(el.type));
  }

  function ticketIdFromPath(path) {
    var match = path.replace(base, "/").match(/^\/(\d+)\/?$/);
    return match ? match[1] : null;
  }

  // --- relative dates: « il y a 5 min » stays true while the page is open ------------------------

  var lang = document.documentElement.lang || "fr";
  var words = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(lang, {numeric: "auto", style: "short"}) : null;
  function freshenDates() {
    if (!words) { return; }
    var now = Date.now();
    Array.prototype.forEach.call(root.querySelectorAll("time[datetime]"), function (el) {
      var minutes = Math.floor((now - Date.parse(el.getAttribute("datetime"))) / 60000);
      if (isNaN(minutes) || minutes >= 7 * 24 * 60) { return; }
      if (minutes < 1) { return; }
      el.textContent = minutes < 60 ? words.format(-minutes, "minute") : minutes < 1440 ? words.format(-Math.floor(minutes / 60), "hour") : words.format(-Math.floor(minutes / 1440), "day");
    });
  }
  window.setInterval(freshenDates, 60000);

  // --- the queue ---------------------------------------------------------------------------------

  function rows() { return Array.prototype.slice.call(queueBody.querySelectorAll(".ws-row")); }

  function markOpen() {
    rows().forEach(function (row) {
      var link = row.querySelector(".ws-row-link");
      if (row.getAttribute("data-ticket-id") === String(openId)) {
        row.classList.add("ws-open");
        link.setAttribute("aria-current", "true");
      } else {
        row.classList.remove("ws-open");
        link.removeAttribute("aria-current");
      }
    });
  }

  function setCounts(counts) {
    Object.keys(counts || {}).forEach(function (key) {
      var el = root.querySelector('[data-count="' + key + '"]');
      if (el) { el.textContent = counts[key]; }
    });
  }

  // Counting a whole desk costs more than a page of it: the counts follow the rows, and a
  // burst of changes is counted once.
  var countsTimer = null;
  function loadCounts(args) {
    window.clearTimeout(countsTimer);
    countsTimer = window.setTimeout(function () {
      request(root.getAttribute("data-counts") + (args ? "?" + args : ""))
        .then(answer)
        .then(function (data) {
          setCounts(data.counts);
          Object.keys(data.figures || {}).forEach(function (key) {
            var el = document.getElementById("count-" + key);
            if (el) { el.textContent = data.figures[key]; }
          });
        })
        .catch(function () { /* the next change counts again */ });
    }, 300);
  }

  function markBox(box) {
    Array.prototype.forEach.call(root.querySelectorAll("[data-box]"), function (link) {
      if (link.tagName.toLowerCase() !== "a") { return; }
      if (link.getAttribute("data-box") === box) { link.setAttribute("aria-current", "page"); } else { link.removeAttribute("aria-current"); }
    });
  }

  function loadQueue(args, keepSelection) {
    var selected = keepSelection ? selection() : [];
    return request(root.getAttribute("data-queue") + (args ? "?" + args : ""))
      .then(answer)
      .then(function (data) {
        var focusedId = document.activeElement && document.activeElement.closest && document.activeElement.closest(".ws-row");
        focusedId = focusedId ? focusedId.getAttribute("data-ticket-id") : null;
        queueBody.innerHTML = data.html;
        loadCounts(args);
        markBox(data.box);
        document.getElementById("ws-queue-title").textContent = data.title;
        selected.forEach(function (id) {
          var box = document.getElementById("ws-check-" + id);
          if (box) { box.checked = true; }
        });
        updateBulkBar();
        markOpen();
        freshenDates();
        if (focusedId) {
          var again = queueBody.querySelector('.ws-row[data-ticket-id="' + focusedId + '"] .ws-row-link');
          if (again) { again.focus(); }
        }
      });
  }

  // --- the pane ------------------------------------------------------------------------------------

  function draftKey(id) { return "novadesk:draft:" + id; }

  function showPane(html, id) {
    pane.innerHTML = html;
    openId = id;
    root.classList.add("ws-has-ticket");
    markOpen();
    setupPane();
    if (live()) { live().viewing(Number(id)); }
  }

  function openTicket(id, url, push) {
    return request(base + id + "/pane")
      .then(function (response) {
        if (!response.ok) { throw new Error(root.getAttribute("data-error")); }
        return response.text();
      })
      .then(function (html) {
        if (push) { history.pushState({ticket: id}, "", url); }
        showPane(html, id);
        var title = document.getElementById("ws-ticket-title");
        if (title) {
          document.title = title.textContent.trim().replace(/\s+/g, " ");
          title.focus({preventScroll: window.innerWidth > 900});
        }
      })
      .catch(function () { location.href = url; });
  }

  function closeTicket(push) {
    if (push) { history.pushState({}, "", base + (queueArgs ? "?" + queueArgs : "")); }
    openId = null;
    root.classList.remove("ws-has-ticket");
    pane.innerHTML = "";
    if (live()) { live().viewing(null); }
    markOpen();
    var first = queueBody.querySelector(".ws-row-link");
    if (first) { first.focus(); }
  }

  // Parts of the pane are read again after a change (history, controls, header); the composer
  // and whatever has the focus are left alone.
  function refreshPane() {
    if (!openId) { return Promise.resolve(); }
    var id = openId;
    return request(base + id + "/pane")
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html || id !== openId) { return; }
        var fresh = parse(html);
        var focused = document.activeElement && document.activeElement.id;
        Array.prototype.forEach.call(fresh.querySelectorAll("[data-swap]"), function (part) {
          var old = document.getElementById(part.id);
          if (!old) { return; }
          var typed = old.querySelector("input[type=text]:focus");
          if (typed && typed.value) { return; }  // someone is typing a name: leave it alone
          if (old.tagName.toLowerCase() === "details" && old.open) { part.open = true; }
          old.parentNode.replaceChild(part, old);
        });
        var again = focused && document.getElementById(focused);
        if (again && again !== document.activeElement) { again.focus({preventScroll: true}); }
        setupControls();
        freshenDates();
        var timeline = document.getElementById("ws-timeline");
        if (timeline) { timeline.lastElementChild && timeline.lastElementChild.scrollIntoView({block: "nearest"}); }
      });
  }

  function afterChange(data) {
    say(data.message, false);
    return Promise.all([refreshPane(), loadQueue(queueArgs, true)]);
  }

  function post(url, body, isJson) {
    var options = {method: "POST", body: body};
    if (isJson) {
      options.body = JSON.stringify(body);
      options.headers = {"Content-Type": "application/json"};
    }
    return request(url, options).then(answer);
  }

  function saveField(field, value) {
    var ticket = document.getElementById("ws-ticket");
    return post(ticket.getAttribute("data-fields"), {field: field, value: value}, true)
      .then(afterChange)
      .catch(function (error) { say(error.message, true); refreshPane(); });
  }

  function take() {
    var ticket = document.getElementById("ws-ticket");
    var button = document.getElementById("ws-take");
    if (!ticket || !button) { return; }
    button.disabled = true;
    post(ticket.getAttribute("data-take"), null)
      .then(afterChange)
      .catch(function (error) { button.disabled = false; say(error.message, true); });
  }

  // --- assignees: a WAI-ARIA combobox with chips; adding one never removes another --------------

  function currentAssignees() {
    return Array.prototype.map.call(document.querySelectorAll("#ws-assignees .ws-chip"), function (chip) { return chip.getAttribute("data-id"); });
  }

  function setupAssignees() {
    var input = document.getElementById("ws-assignee-input");
    var list = document.getElementById("ws-agent-list");
    if (!input || !list) { return; }
    var active = -1;
    function options() { return Array.prototype.filter.call(list.querySelectorAll("[role=option]"), function (o) { return !o.hidden; }); }
    function open() { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
    function close() { list.hidden = true; input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant"); active = -1; highlight(); }
    function highlight() {
      options().forEach(function (o, i) { o.setAttribute("aria-selected", i === active ? "true" : "false"); o.classList.toggle("ws-active", i === active); });
      var current = options()[active];
      if (current) { input.setAttribute("aria-activedescendant", current.id); current.scrollIntoView({block: "nearest"}); } else { input.removeAttribute("aria-activedescendant"); }
    }
    function filter() {
      var term = input.value.trim().toLowerCase();
      Array.prototype.forEach.call(list.querySelectorAll("[role=option]"), function (o) { o.hidden = term && o.textContent.toLowerCase().indexOf(term) === -1; });
      active = options().length ? 0 : -1;
      highlight();
    }
    function choose(option) {
      if (!option) { return; }
      var ids = currentAssignees();
      ids.push(option.getAttribute("data-id"));
      input.value = "";
      close();
      saveField("assignees", ids).then(function () {
        var again = document.getElementById("ws-assignee-input");
        if (again) { again.focus(); }
      });
    }
    input.addEventListener("focus", function () { filter(); open(); });
    input.addEventListener("input", function () { filter(); open(); });
    input.addEventListener("blur", function () { window.setTimeout(close, 150); });
    input.addEventListener("keydown", function (event) {
      var count = options().length;
      if (event.key === "ArrowDown") { event.preventDefault(); open(); active = count ? (active + 1) % count : -1; highlight(); }
      else if (event.key === "ArrowUp") { event.preventDefault(); open(); active = count ? (active - 1 + count) % count : -1; highlight(); }
      else if (event.key === "Enter") { if (!list.hidden && options()[active]) { event.preventDefault(); choose(options()[active]); } }
      else if (event.key === "Escape") { close(); }
    });
    list.addEventListener("mousedown", function (event) { event.preventDefault(); });
    list.addEventListener("click", function (event) { choose(event.target.closest("[role=option]")); });
    Array.prototype.forEach.call(document.querySelectorAll("#ws-assignees .ws-chip-remove"), function (button) {
      button.addEventListener("click", function () {
        var gone = button.closest(".ws-chip").getAttribute("data-id");
        saveField("assignees", currentAssignees().filter(function (id) { return id !== gone; }));
      });
    });
  }

  function setupControls() {
    Array.prototype.forEach.call(pane.querySelectorAll("select[data-field]"), function (select) {
      select.addEventListener("change", function () { if (select.value) { saveField(select.getAttribute("data-field"), select.value); } });
    });
    var button = document.getElementById("ws-take");
    if (button) { button.addEventListener("click", take); }
    setupAssignees();
  }

  // --- the composer: reply or note, canned responses by / or #, drafts, send-and-status -----------

  function setupComposer() {
    var form = document.getElementById("ws-composer");
    if (!form) { return; }
    var id = openId;
    var body = form.querySelector("#ws-body");
    var banner = document.getElementById("ws-note-banner");
    var primary = form.querySelector("button[type=submit][value='']");
    var canned = JSON.parse(form.getAttribute("data-canned") || "[]");
    var box = document.getElementById("ws-canned");
    var list = document.getElementById("ws-canned-list");
    var cannedButton = document.getElementById("ws-canned-button");
    var active = 0;
    var shown = [];
    var composingTimer = null;

    function isNote() { return form.querySelector("input[name=internal]:checked").value === "1"; }
    function applyMode() {
      var note = isNote();
      form.classList.toggle("ws-composer-note", note);
      banner.hidden = !note;
      primary.textContent = primary.getAttribute(note ? "data-note" : "data-reply");
      Array.prototype.forEach.call(form.querySelectorAll(".ws-reply-only"), function (b) { b.hidden = note; });
    }
    function saveDraft() {
      try {
        if (body.value) { localStorage.setItem(draftKey(id), JSON.stringify({body: body.value, note: isNote()})); } else { localStorage.removeItem(draftKey(id)); }
      } catch (e) { /* private browsing: no draft kept */ }
    }
    try {
      var draft = JSON.parse(localStorage.getItem(draftKey(id)) || "null");
      if (draft) {
        body.value = draft.body || "";
        form.querySelector("input[name=internal][value='" + (draft.note ? "1" : "0") + "']").checked = true;
      }
    } catch (e) { /* nothing kept */ }
    applyMode();
    Array.prototype.forEach.call(form.querySelectorAll("input[name=internal]"), function (radio) {
      radio.addEventListener("change", function () { applyMode(); saveDraft(); });
    });

    function token() {
      var before = body.value.slice(0, body.selectionStart);
      var match = before.match(/(^|\s)([\/#])([^\s\/#]*)$/);
      return match ? {start: before.length - match[2].length - match[3].length, term: match[3]} : null;
    }
    function closeCanned() {
      box.hidden = true;
      if (cannedButton) { cannedButton.setAttribute("aria-expanded", "false"); }
      body.removeAttribute("aria-activedescendant");
    }
    function render(term) {
      term = (term || "").toLowerCase();
      shown = canned.filter(function (c) { return !term || c.title.toLowerCase().indexOf(term) !== -1 || c.text.toLowerCase().indexOf(term) !== -1; }).slice(0, 8);
      list.innerHTML = "";
      shown.forEach(function (c, i) {
        var li = document.createElement("li");
        li.setAttribute("role", "option");
        li.id = "ws-canned-" + i;
        li.setAttribute("aria-selected", i === active ? "true" : "false");
        li.className = i === active ? "ws-active" : "";
        var strong = document.createElement("strong");
        strong.textContent = c.title;
        var small = document.createElement("span");
        small.textContent = c.text.slice(0, 90);
        li.appendChild(strong);
        li.appendChild(small);
        li.addEventListener("mousedown", function (event) { event.preventDefault(); });
        li.addEventListener("click", function () { insert(c); });
        list.appendChild(li);
      });
      box.hidden = shown.length === 0;
      if (cannedButton) { cannedButton.setAttribute("aria-expanded", box.hidden ? "false" : "true"); }
      if (shown[active]) { body.setAttribute("aria-activedescendant", "ws-canned-" + active); }
    }
    function insert(c) {
      var found = token();
      var start = found ? found.start : body.selectionStart;
      var end = body.selectionEnd;
      body.value = body.value.slice(0, start) + c.text + body.value.slice(end);
      body.focus();
      body.selectionStart = body.selectionEnd = start + c.text.length;
      closeCanned();
      saveDraft();
    }
    body.addEventListener("input", function () {
      saveDraft();
      var found = token();
      if (found && canned.length) { active = 0; render(found.term); } else { closeCanned(); }
      if (live() && id) {
        live().composing(Number(id), true);
        window.clearTimeout(composingTimer);
        composingTimer = window.setTimeout(function () { live().composing(Number(id), false); }, 4000);
      }
    });
    body.addEventListener("keydown", function (event) {
      if (box.hidden) { return; }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        active = (active + (event.key === "ArrowDown" ? 1 : shown.length - 1)) % shown.length;
        var found = token();
        render(found ? found.term : "");
      } else if (event.key === "Enter" || event.key === "Tab") {
        if (shown[active]) { event.preventDefault(); insert(shown[active]); }
      } else if (event.key === "Escape") {
        event.preventDefault();
        closeCanned();
      }
    });
    body.addEventListener("blur", function () { window.setTimeout(closeCanned, 200); });
    if (cannedButton) {
      cannedButton.addEventListener("click", function () {
        if (!box.hidden) { closeCanned(); return; }
        var at = body.selectionStart || body.value.length;
        var prefix = at > 0 && !/\s/.test(body.value.charAt(at - 1)) ? " /" : "/";
        body.value = body.value.slice(0, at) + prefix + body.value.slice(at);
        body.focus();
        body.selectionStart = body.selectionEnd = at + prefix.length;
        active = 0;
        render("");
      });
    }

    var then = "";
    Array.prototype.forEach.call(form.querySelectorAll("button[type=submit]"), function (button) {
      button.addEventListener("click", function () { then = button.value; });
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(form);
      data.set("then", isNote() ? "" : then);
      var buttons = form.querySelectorAll("button");
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
      post(form.getAttribute("data-send"), data)
        .then(function (result) {
          body.value = "";
          form.querySelector("#ws-files").value = "";
          try { localStorage.removeItem(draftKey(id)); } catch (e) { /* nothing kept */ }
          if (live()) { live().composing(Number(id), false); }
          return afterChange(result);
        })
        .catch(function (error) { say(error.message, true); })  // the text stays where it was
        .then(function () { Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; }); then = ""; });
    });
  }

  function setupPane() {
    setupControls();
    setupComposer();
    freshenDates();
    var back = pane.querySelector("[data-back]");
    if (back) {
      back.setAttribute("href", base + (queueArgs ? "?" + queueArgs : ""));
      back.addEventListener("click", function (event) { event.preventDefault(); closeTicket(true); });
    }
    var presence = document.getElementById("ws-presence");
    if (presence) { presence.textContent = ""; }
  }

  // --- navigation: links, back/forward, reload ---------------------------------------------------

  root.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) { return; }
    var link = event.target.closest("a");
    if (!link || !root.contains(link) || link.hasAttribute("download") || link.origin !== location.origin) { return; }
    var url = new URL(link.href);
    var id = ticketIdFromPath(url.pathname);
    if (link.classList.contains("ws-row-link") && id) {
      event.preventDefault();
      queueArgs = url.search.replace(/^\?/, "");
      openTicket(id, url.pathname + url.search, true);
    } else if ((link.hasAttribute("data-box") || link.hasAttribute("data-queue-link")) && url.pathname === base) {
      event.preventDefault();
      queueArgs = url.search.replace(/^\?/, "");
      history.pushState({}, "", url.pathname + url.search);
      clearSelection();
      loadQueue(queueArgs).then(function () {
        if (openId) { closeTicket(false); }
        var first = queueBody.querySelector(".ws-row-link");
        if (first && window.innerWidth <= 900) { first.focus(); }
      });
    }
  });

  window.addEventListener("popstate", function () {
    queueArgs = location.search.replace(/^\?/, "");
    var id = ticketIdFromPath(location.pathname);
    loadQueue(queueArgs);
    if (id) { openTicket(id, location.pathname + location.search, false); } else if (openId) { closeTicket(false); }
  });

  var search = root.querySelector(".ws-search");
  if (search) {
    search.addEventListener("submit", function (event) {
      event.preventDefault();
      var chosen = new URLSearchParams();
      new FormData(search).forEach(function (value, key) { if (value !== "") { chosen.append(key, value); } });
      queueArgs = chosen.toString();
      history.pushState({}, "", base + "?" + queueArgs);
      clearSelection();
      loadQueue(queueArgs);
    });
    // A filter chosen applies at once, like the search (empty choices are left out of the address).
    Array.prototype.forEach.call(search.querySelectorAll(".ws-filter"), function (select) {
      select.addEventListener("change", function () {
        if (search.requestSubmit) { search.requestSubmit(); } else { search.dispatchEvent(new Event("submit", { cancelable: true })); }
      });
    });
  }

  var sort = document.getElementById("ws-sort");
  if (sort) {
    sort.addEventListener("change", function () {
      var params = new URLSearchParams(queueArgs);
      var parts = sort.value.split(":");
      params.set("sort", parts[0]);
      params.set("dir", parts[1]);
      params.delete("page");
      queueArgs = params.toString();
      history.replaceState(history.state, "", location.pathname + "?" + queueArgs);
      loadQueue(queueArgs);
    });
  }

  // --- bulk actions --------------------------------------------------------------------------------

  var bulk = document.getElementById("ws-bulk");
  var bulkResult = document.getElementById("ws-bulk-result");
  function selection() {
    return Array.prototype.map.call(queueBody.querySelectorAll(".ws-check:checked"), function (box) { return box.value; });
  }
  function updateBulkBar() {
    var chosen = selection();
    var count = document.getElementById("ws-bulk-count");
    bulk.hidden = chosen.length === 0 && !bulkResult.textContent;
    count.textContent = chosen.length === 1 ? count.getAttribute("data-one") : count.getAttribute("data-many").replace("{n}", chosen.length);
  }
  function clearSelection() {
    Array.prototype.forEach.call(queueBody.querySelectorAll(".ws-check:checked"), function (box) { box.checked = false; });
    bulkResult.textContent = "";
    updateBulkBar();
  }
  queueBody.addEventListener("change", function (event) {
    if (event.target.classList.contains("ws-check")) { bulkResult.textContent = ""; updateBulkBar(); }
  });
  document.getElementById("ws-bulk-clear").addEventListener("click", clearSelection);

  function runBulk(action, value) {
    var ids = selection().map(Number);
    if (!ids.length) { return; }
    if (action === "merge") {
      ids.sort(function (a, b) { return a - b; });
      value = ids.shift();
      if (!ids.length) { return; }
    }
    bulkResult.textContent = "";
    request(root.getAttribute("data-bulk"), {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({ticket_ids: ids, action: action, value: value === undefined ? null : value})})
      .then(function (response) {
        if (response.status === 404 || response.status === 405) { throw new Error(bulkResult.getAttribute("data-missing")); }
        return answer(response);
      })
      .then(function (data) {
        var done = data.done || [];
        var refused = data.refused || [];
        var text = document.createElement("p");
        text.textContent = bulkResult.getAttribute("data-done").replace("{n}", done.length);
        bulkResult.innerHTML = "";
        bulkResult.appendChild(text);
        if (refused.length) {
          var title = document.createElement("p");
          title.textContent = bulkResult.getAttribute("data-refused");
          var list = document.createElement("ul");
          refused.forEach(function (item) {
            var li = document.createElement("li");
            li.textContent = item.number + " — " + item.reason;
            list.appendChild(li);
          });
          bulkResult.appendChild(title);
          bulkResult.appendChild(list);
        }
        return Promise.all([loadQueue(queueArgs, false), refreshPane()]);
      })
      .catch(function (error) { bulkResult.textContent = error.message; })
      .then(updateBulkBar);
  }
  Array.prototype.forEach.call(bulk.querySelectorAll("[data-bulk]"), function (control) {
    var action = control.getAttribute("data-bulk");
    if (control.tagName.toLowerCase() === "select") {
      control.addEventListener("change", function () {
        if (!control.value) { return; }
        var value = action === "assign" ? [Number(control.value)] : Number(control.value);
        runBulk(action, value);
        control.value = "";
      });
    } else {
      control.addEventListener("click", function () { runBulk(action); });
    }
  });

  // --- keyboard -------------------------------------------------------------------------------------

  var dialog = document.getElementById("ws-shortcuts");
  function showShortcuts() {
    if (dialog.showModal) { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
  }
  document.getElementById("ws-help-button").addEventListener("click", showShortcuts);

  function currentRowIndex(list) {
    var focused = document.activeElement && document.activeElement.closest ? document.activeElement.closest(".ws-row") : null;
    var index = list.indexOf(focused);
    if (index === -1 && openId) { index = list.indexOf(queueBody.querySelector('.ws-row[data-ticket-id="' + openId + '"]')); }
    return index;
  }

  function focusComposer(note) {
    var form = document.getElementById("ws-composer");
    if (!form) { return; }
    var radio = form.querySelector("input[name=internal][value='" + (note ? "1" : "0") + "']");
    radio.checked = true;
    radio.dispatchEvent(new Event("change"));
    form.querySelector("#ws-body").focus();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event) || (dialog && dialog.open)) { return; }
    var list = rows();
    var index = currentRowIndex(list);
    var key = event.key;
    if (key === "j" || key === "k") {
      if (!list.length) { return; }
      event.preventDefault();
      var next = key === "j" ? Math.min(index + 1, list.length - 1) : Math.max(index - 1, 0);
      list[next].querySelector(".ws-row-link").focus();
    } else if (key === "o" || (key === "Enter" && event.target.classList && event.target.classList.contains("ws-row"))) {
      var row = list[index];
      if (row) { event.preventDefault(); row.querySelector(".ws-row-link").click(); }
    } else if (key === "a") {
      if (document.getElementById("ws-take")) { event.preventDefault(); take(); }
    } else if (key === "r" || key === "n") {
      if (document.getElementById("ws-composer")) { event.preventDefault(); focusComposer(key === "n"); }
    } else if (key === "s") {
      var status = document.getElementById("ws-status");
      if (status) { event.preventDefault(); status.focus(); }
    } else if (key === "?") {
      event.preventDefault();
      showShortcuts();
    }
  });

  // --- live: the desk's socket events, with polling only while it is down ------------------------

  var queueRefresh = null;
  function soonRefreshQueue() {
    window.clearTimeout(queueRefresh);
    queueRefresh = window.setTimeout(function () { loadQueue(queueArgs, true); }, 150);
  }
  function poll() {
    if (document.hidden) { return; }
    loadQueue(queueArgs, true).catch(function () { /* still offline */ });
    refreshPane().catch(function () { /* still offline */ });
  }
  function startPolling() {
    if (!pollTimer) { pollTimer = window.setInterval(poll, 20000); }
  }
  function stopPolling() {
    window.clearInterval(pollTimer);
    pollTimer = null;
  }

  document.addEventListener("novadesk:ticket", function (event) {
    var detail = event.detail || {};
    soonRefreshQueue();
    if (openId && String(detail.ticket_id) === String(openId)) { refreshPane(); }
  });
  document.addEventListener("novadesk:presence", function (event) {
    var detail = event.detail || {};
    var target = document.getElementById("ws-presence");
    if (!target || String(detail.ticket_id) !== String(openId)) { return; }
    target.textContent = (detail.viewers || []).map(function (viewer) {
      return target.getAttribute(viewer.composing ? "data-composing" : "data-viewing").replace("{name}", viewer.name);
    }).join(" · ");
  });
  function showConnection(lost) {
    var notice = document.getElementById("ws-connection");
    if (notice) { notice.hidden = !lost; }
  }
  document.addEventListener("novadesk:offline", function () { offline = true; showConnection(true); startPolling(); });
  document.addEventListener("novadesk:online", function () { offline = false; showConnection(false); stopPolling(); });
  document.addEventListener("novadesk:resync", function () { loadQueue(queueArgs, true); refreshPane(); });

  if (live()) {
    if (!live().connected && live().connect) { live().connect(); }
    if (openId) { live().viewing(Number(openId)); }
  }
  if (offline) { startPolling(); }
  window.addEventListener("beforeunload", function () { if (live()) { live().viewing(null); } });

  if (openId) { setupPane(); }
  markOpen();
  updateBulkBar();
  freshenDates();
})();
