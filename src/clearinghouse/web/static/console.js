// Progressive enhancement only: every page reads fully without this script.
// Adds the viewer's local time beside each UTC time, and keeps countdowns live.
(function () {
  "use strict";
  // "Go back" links (the 404 page): the browser's history where there is one, else their href.
  document.addEventListener("click", function (event) {
    var link = event.target && event.target.closest ? event.target.closest("a[data-back]") : null;
    if (link && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });
  function localize(root) {
    root.querySelectorAll("time.utc[datetime]").forEach(function (el) {
      if (el.dataset.localized) return;
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when.getTime())) return;
      var span = document.createElement("span");
      span.className = "local-time";
      span.textContent = " (your time: " + when.toLocaleString([], {
        year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short"
      }) + ")";
      el.after(span);
      el.dataset.localized = "1";
    });
  }
  function words(ms) {
    var s = Math.floor(Math.abs(ms) / 1000);
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    var parts = [];
    if (d) parts.push(d + (d === 1 ? " day" : " days"));
    if (h) parts.push(h + (h === 1 ? " hour" : " hours"));
    if (!d) parts.push(m + (m === 1 ? " minute" : " minutes"));
    return parts.slice(0, 3).join(" ");
  }
  function tick() {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var end = new Date(el.getAttribute("data-countdown"));
      if (isNaN(end.getTime())) return;
      var left = end.getTime() - Date.now();
      el.textContent = left >= 0 ? "ends in " + words(left) : "ended " + words(left) + " ago";
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    localize(document);
    tick();
    setInterval(tick, 30000);
  });
  // Content swapped in by htmx (live progress) gets the same treatment.
  document.addEventListener("htmx:after:swap", function () { localize(document); });
  document.addEventListener("htmx:afterSwap", function () { localize(document); });
})();
