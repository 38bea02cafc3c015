/* The dashboards (P2, P3, T13): draws the figures of /dashboard/data and asks again every
   minute (data-refresh seconds) without reloading the page. Text is always set with
   textContent: titles and comments come from users. Charts: Chart.js served by NovaDesk. */
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  if (!root) { return; }
  var words = document.getElementById("dash-words").dataset;
  var charts = {};
  var seenAlerts = null;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; } else if (key === "className") { node.className = attrs[key]; } else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }
  function path(data, dotted) {
    return dotted.split(".").reduce(function (value, key) { return value == null ? value : value[key]; }, data);
  }
  function fill(id, items, render) {
    var target = document.getElementById(id);
    if (!target) { return; }
    target.textContent = "";
    if (!items || !items.length) {
      target.appendChild(el(target.tagName === "TBODY" ? "tr" : "li", {className: "text-muted"}, [target.tagName === "TBODY" ? el("td", {colspan: "6", text: words.none}) : document.createTextNode(words.none)]));
      return;
    }
    items.forEach(function (item) { target.appendChild(render(item)); });
  }
  function figure(item) {
    return el("li", {}, [el("a", {href: item.url, className: "nd-figure nd-figure-" + item.key}, [
      el("span", {className: "nd-figure-value", text: String(item.value)}),
      el("span", {className: "nd-figure-label", text: item.label})
    ])]);
  }
  function watched(item) {
    var badge = el("span", {className: "label " + (item.late ? "label-danger" : "label-warning"), text: item.late ? words.late : words.soon});
    var detail = item.organisation + " · " + item.priority + " · " + item.deadline + " " + words.due + " " + item.due + (item.assignees ? " · " + item.assignees : "");
    return el("li", {}, [badge, document.createTextNode(" "), el("a", {href: item.url, text: item.number + " — " + item.title}), el("br"), el("small", {className: "text-muted", text: detail})]);
  }
  function alertItem(item) {
    var badge = el("span", {className: "label " + (item.late ? "label-danger" : "label-warning"), text: item.late ? words.alertLate : words.alertSoon});
    return el("li", {}, [badge, document.createTextNode(" "), el("a", {href: item.url, text: item.number + " — " + item.title}), el("br"), el("small", {className: "text-muted", text: item.deadline + " · " + words.due + " " + item.due + " · " + item.at})]);
  }
  function eventItem(item) {
    return el("li", {}, [el("small", {className: "text-muted", text: item.at + " · " + item.actor}), el("br"), el("a", {href: item.url, text: item.number}), document.createTextNode(" " + item.sentence)]);
  }
  function ratingItem(item) {
    var stars = el("span", {className: "nd-stars", "aria-label": item.score + " / 5", text: "★★★★★".slice(0, item.score) + "☆☆☆☆☆".slice(0, 5 - item.score)});
    return el("li", {}, [stars, document.createTextNode(" "), el("a", {href: item.url, text: item.number + " — " + item.title}), item.comment ? el("q", {text: item.comment}) : null, el("br"), el("small", {className: "text-muted", text: item.at})]);
  }
  function agentRow(item) {
    return el("tr", {}, [
      el("th", {scope: "row"}, [el("a", {href: item.url, text: item.label})]),
      el("td", {text: String(item.active)}), el("td", {text: String(item.tickets)}),
      el("td", {text: item.first_response_label}), el("td", {text: item.resolution_label}), el("td", {text: item.sla_label})
    ]);
  }
  function drawHistory(history) {
    var canvas = document.getElementById("chart-history");
    if (!canvas || !window.Chart) { return; }
    var labels = history.map(function (d) { return d.day.slice(8, 10) + "/" + d.day.slice(5, 7); });
    var sets = [
      {type: "bar", label: words.created, data: history.map(function (d) { return d.created; }), backgroundColor: "#2b6cb0"},
      {type: "bar", label: words.resolved, data: history.map(function (d) { return d.resolved; }), backgroundColor: "#38a169"},
      {type: "line", label: words.backlog, data: history.map(function (d) { return d.backlog; }), borderColor: "#c05621", backgroundColor: "#c05621", yAxisID: "backlog", pointRadius: 0}
    ];
    if (charts.history) {
      charts.history.data.labels = labels;
      sets.forEach(function (set, i) { charts.history.data.datasets[i].data = set.data; });
      charts.history.update("none");
      return;
    }
    charts.history = new window.Chart(canvas, {
      data: {labels: labels, datasets: sets},
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: {y: {beginAtZero: true, ticks: {precision: 0}}, backlog: {position: "right", beginAtZero: true, grid: {drawOnChartArea: false}, ticks: {precision: 0}}},
        plugins: {legend: {position: "bottom"}}
      }
    });
  }
  function announceNewAlerts(alerts) {
    if (!alerts) { return; }
    var ids = alerts.map(function (a) { return a.id; });
    if (seenAlerts !== null) {
      var fresh = alerts.filter(function (a) { return seenAlerts.indexOf(a.id) === -1; });
      var box = document.getElementById("dash-new-alert");
      if (fresh.length && box) {
        box.textContent = words.newAlert + " " + fresh.map(function (a) { return a.number + " (" + a.deadline + ")"; }).join(", ");
        box.hidden = false;
      }
    }
    seenAlerts = ids;
  }
  function draw(data) {
    fill("dash-counts", data.counts, figure);
    fill("dash-flow", data.flow, figure);
    Array.prototype.forEach.call(root.querySelectorAll("[data-figure]"), function (node) {
      var value = path(data, node.getAttribute("data-figure"));
      node.textContent = value == null ? "—" : String(value);
    });
    Array.prototype.forEach.call(root.querySelectorAll("[data-href]"), function (node) {
      var value = path(data, node.getAttribute("data-href"));
      if (value) { node.setAttribute("href", value); }
    });
    fill("dash-late", data.late, watched);
    fill("dash-urgent", data.urgent, watched);
    fill("dash-alerts", data.alerts, alertItem);
    fill("dash-agents", data.agents, agentRow);
    fill("dash-events", data.events, eventItem);
    fill("dash-ratings", data.ratings, ratingItem);
    announceNewAlerts(data.alerts);
    document.getElementById("dash-updated").textContent = data.generated_at;
    drawHistory(data.history || []);
  }
  function refresh() {
    if (document.hidden || !window.fetch) { return; }
    fetch(root.getAttribute("data-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) { draw(data); } })
      .catch(function () { /* offline for a moment: the next tick tries again */ });
  }
  draw(JSON.parse(document.getElementById("dash-initial").textContent));
  window.setInterval(refresh, Math.max(1, parseInt(root.getAttribute("data-refresh"), 10) || 60) * 1000);
  document.addEventListener("visibilitychange", refresh);
})();
