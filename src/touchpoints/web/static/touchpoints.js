// Small progressive enhancements; every page works without JavaScript.
(function () {
  "use strict";

  function formatTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      var style = el.dataset.style === "date" ? { dateStyle: "medium" } : { dateStyle: "medium", timeStyle: "short" };
      el.textContent = new Intl.DateTimeFormat(undefined, style).format(when);
    });
  }

  function autosubmit(root) {
    root.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () { el.form.submit(); });
    });
  }

  function renderCharts(root) {
    if (typeof vegaEmbed === "undefined") return;
    root.querySelectorAll("[data-vega-spec]").forEach(function (el) {
      var source = document.getElementById(el.dataset.vegaSpec);
      if (!source || el.dataset.rendered) return;
      el.dataset.rendered = "1";
      vegaEmbed(el, JSON.parse(source.textContent), { actions: false, renderer: "svg" })
        .then(function () {
          // The container is role="img" with an aria-label, and the table beside every chart
          // carries the same numbers; Vega's per-mark SVG roles would only repeat them unlabelled.
          var svg = el.querySelector("svg");
          if (svg) svg.setAttribute("aria-hidden", "true");
        })
        .catch(function (err) { el.textContent = "The chart could not be drawn: " + err; });
    });
  }

  function enhance(root) { formatTimes(root); autosubmit(root); renderCharts(root); }
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:afterSwap", function (event) { enhance(event.target); });
})();
