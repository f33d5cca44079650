// Pulse console: live countdowns to acknowledgement deadlines and charts drawn from JSON data blocks.
// No inline script anywhere (the Content-Security-Policy forbids it): pages carry data, this file acts.
(function () {
  "use strict";

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      var end = Date.parse(el.getAttribute("data-deadline"));
      if (isNaN(end)) { return; }
      var left = Math.round((end - now) / 1000);
      var out = el.querySelector(".countdown");
      if (!out) {
        out = document.createElement("span");
        out.className = "countdown";
        el.appendChild(out);
      }
      if (left <= 0) {
        out.textContent = " · quá hạn " + Math.floor(-left / 60) + " phút";
        el.classList.add("late");
      } else {
        var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
        out.textContent = " · còn " + (h ? h + " giờ " : "") + pad(m) + ":" + pad(s);
        el.classList.remove("late");
      }
    });
  }

  var palette = ["#b71c1c", "#e65100", "#f9a825", "#2e7d32", "#1565c0", "#6a1b9a", "#00838f", "#4e342e", "#546e7a"];

  function drawCharts(root) {
    if (typeof window.Chart === "undefined") { return; }
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) { return; }
      var source = document.getElementById(canvas.getAttribute("data-chart"));
      if (!source) { return; }
      var spec = JSON.parse(source.textContent || "{}");
      canvas.dataset.drawn = "1";
      var bar = spec.kind === "bar";
      new window.Chart(canvas, {
        type: bar ? "bar" : "line",
        data: {
          labels: spec.labels || [],
          datasets: [{
            label: spec.label || "",
            data: spec.values || [],
            borderColor: "#b71c1c",
            backgroundColor: bar ? palette : "rgba(183, 28, 28, 0.15)",
            fill: !bar,
            tension: 0.25
          }]
        },
        options: {
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          indexAxis: bar ? "y" : "x",
          plugins: { legend: { display: false } },
          scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { beginAtZero: true, ticks: { precision: 0 } } }
        }
      });
    });
  }

  function confirmForms(root) {
    root.querySelectorAll("form[data-confirm]").forEach(function (form) {
      if (form.dataset.bound) { return; }
      form.dataset.bound = "1";
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  }

  function ready() {
    tick();
    drawCharts(document);
    confirmForms(document);
    setInterval(tick, 1000);
    document.body.addEventListener("htmx:afterSwap", function (event) {
      tick();
      drawCharts(event.target);
      confirmForms(event.target);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
