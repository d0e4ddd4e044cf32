// Keeps the SLA countdowns of a page live: every element with data-due
// (an RFC 3339 deadline) says how long is left, or how long ago it passed,
// as the server wrote it, and takes the class the server would give it.
// The page works without it: the countdowns are then as of the page's load.
(function () {
  "use strict";
  function span(ms) {
    var m = Math.round(Math.abs(ms) / 60000);
    var d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60), min = m % 60;
    if (d > 0) return d + "d " + h + "h";
    if (h > 0) return h + "h " + min + "m";
    return min + "m";
  }
  // The server's clock, as of the page's load, is the one that counts (the
  // viewer's may be off): the script only adds the time gone by since.
  var skew = 0;
  function tick() {
    var now = Date.now() + skew;
    document.querySelectorAll(".sla[data-due]").forEach(function (el) {
      var left = Date.parse(el.getAttribute("data-due")) - now;
      if (isNaN(left)) return;
      var cls = left <= 0 ? "breached" : left < 3600000 ? "soon" : "ok";
      el.textContent = left <= 0 ? "breached " + span(left) + " ago" : span(left) + " left";
      el.classList.remove("sla-ok", "sla-soon", "sla-breached");
      el.classList.add("sla-" + cls);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var server = Date.parse(document.body.getAttribute("data-now"));
    if (!isNaN(server)) skew = server - Date.now();
    tick();
    setInterval(tick, 30000);
  });
})();
