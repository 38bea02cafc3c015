/* The ticket desk in the browser: the list refreshes itself every 30 seconds without a
   reload (T9), and canned responses are inserted where the cursor is (T8). */
(function () {
  "use strict";
  var table = document.getElementById("ticket-table");
  if (table && window.fetch) {
    var refresh = function () {
      if (document.hidden) { return; }
      fetch(table.getAttribute("data-refresh"), {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var holder = document.createElement("table");
          holder.innerHTML = html;
          var rows = holder.querySelector("tbody");
          var current = document.getElementById("ticket-rows");
          if (!rows || !current) { return; }
          current.parentNode.replaceChild(rows, current);
          ["new", "closed", "total"].forEach(function (key) {
            var target = document.getElementById("count-" + key);
            if (target) { target.textContent = rows.getAttribute("data-" + key); }
          });
        })
        .catch(function () { /* offline for a moment: the next tick tries again */ });
    };
    window.setInterval(refresh, 30000);
    document.addEventListener("visibilitychange", refresh);
  }
  Array.prototype.forEach.call(document.querySelectorAll("select[data-target]"), function (select) {
    select.addEventListener("change", function () {
      var target = document.getElementById(select.getAttribute("data-target"));
      if (!target || !select.value) { return; }
      var start = target.selectionStart || target.value.length;
      target.value = target.value.slice(0, start) + select.value + target.value.slice(target.selectionEnd || start);
      target.focus();
      select.value = "";
    });
  });
})();
