/* Articles proposed while a title or a question is typed (K3). An input with
   data-suggest="/help/suggest" lists matching articles under it; with data-insert-into="id"
   a click inserts the article's link into that text area (agents' replies) instead of
   opening it. The token of what was shown goes into data-token-field, sent with the form. */
(function () {
  "use strict";
  if (!window.fetch) { return; }
  Array.prototype.forEach.call(document.querySelectorAll("input[data-suggest]"), function (input) {
    var box = document.getElementById(input.getAttribute("data-suggest-box"));
    var list = box && box.querySelector("ul");
    var tokenField = document.getElementById(input.getAttribute("data-token-field") || "");
    var insertInto = document.getElementById(input.getAttribute("data-insert-into") || "");
    var timer = null, last = "";
    if (!box || !list) { return; }
    var render = function (data) {
      list.innerHTML = "";
      if (tokenField && data.token) { tokenField.value = data.token; }
      data.articles.forEach(function (article) {
        var item = document.createElement("li");
        var link = document.createElement("a");
        link.href = article.url;
        link.textContent = article.title;
        if (insertInto) {
          link.addEventListener("click", function (event) {
            event.preventDefault();
            var url = window.location.origin + article.url.split("?")[0];
            var text = article.title + " : " + url;
            var start = insertInto.selectionStart || insertInto.value.length;
            insertInto.value = insertInto.value.slice(0, start) + text + insertInto.value.slice(insertInto.selectionEnd || start);
            insertInto.focus();
          });
        } else {
          link.target = "_blank";
          link.rel = "noopener";
        }
        item.appendChild(link);
        var kind = document.createElement("span");
        kind.className = "nd-suggest-kind";
        kind.textContent = " — " + article.kind;
        item.appendChild(kind);
        list.appendChild(item);
      });
      box.hidden = data.articles.length === 0;
    };
    var ask = function () {
      var query = input.value.trim();
      if (query === last) { return; }
      last = query;
      if (query.length < 3) { box.hidden = true; return; }
      var url = input.getAttribute("data-suggest") + "?channel=" + encodeURIComponent(input.getAttribute("data-channel") || "ticket_form") + "&q=" + encodeURIComponent(query) +
        (input.getAttribute("data-for-ticket") ? "&for_ticket=" + encodeURIComponent(input.getAttribute("data-for-ticket")) : "");
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) { if (data && data.query === input.value.trim()) { render(data); } })
        .catch(function () { /* suggestions are a help, never a blocker */ });
    };
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, 300);
    });
  });
})();
