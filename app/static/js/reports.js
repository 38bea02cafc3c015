/* The report page: the backlog chart (Chart.js served by NovaDesk) and the print button. */
(function () {
  "use strict";
  var button = document.getElementById("report-print");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
  var canvas = document.getElementById("chart-backlog");
  var source = document.getElementById("report-history");
  if (!canvas || !source || !window.Chart) { return; }
  var words = document.getElementById("report-words").dataset;
  var history = JSON.parse(source.textContent);
  new window.Chart(canvas, {
    data: {
      labels: history.map(function (d) { return d.day.slice(8, 10) + "/" + d.day.slice(5, 7); }),
      datasets: [
        {type: "bar", label: words.created, data: history.map(function (d) { return d.created; }), backgroundColor: "#2b6cb0"},
        {type: "bar", label: words.resolved, data: history.map(function (d) { return d.resolved; }), backgroundColor: "#38a169"},
        {type: "line", label: words.backlog, data: history.map(function (d) { return d.backlog; }), borderColor: "#c05621", backgroundColor: "#c05621", yAxisID: "backlog", pointRadius: 0}
      ]
    },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      scales: {y: {beginAtZero: true, ticks: {precision: 0}}, backlog: {position: "right", beginAtZero: true, grid: {drawOnChartArea: false}, ticks: {precision: 0}}},
      plugins: {legend: {position: "bottom"}}
    }
  });
})();
