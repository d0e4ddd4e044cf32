// The policy editor, enhanced; the page works without it (the server numbers
// the lines, links each problem to its line, and says when a backtest is out
// of date). With it:
// - the gutter keeps one number per line, and the text box grows with the
//   text, so that the numbers stay beside their lines as the text scrolls;
// - a problem's link puts the cursor on its line in the text;
// - editing the text marks the backtest shown as out of date and hides the
//   publish link (publishing publishes the saved draft, not the editor's
//   text) until the text is as saved again.
(function () {
  "use strict";
  function lineCount(s) {
    var n = 1;
    for (var i = 0; i < s.length; i++) if (s.charCodeAt(i) === 10) n++;
    if (s.length > 0 && s.charCodeAt(s.length - 1) === 10) n--;
    return Math.max(n, 1);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var body = document.getElementById("body");
    var gutter = document.querySelector(".editor .gutter");
    if (!body || !gutter) return;
    var box = body.closest(".editor");
    var saved = body.value;
    var shown = gutter.children.length;

    function renumber() {
      var n = lineCount(body.value);
      for (; shown < n; shown++) {
        var span = document.createElement("span");
        span.id = "L" + (shown + 1);
        span.textContent = String(shown + 1);
        gutter.appendChild(span);
        gutter.appendChild(document.createTextNode("\n"));
      }
      for (; shown > n; shown--) {
        gutter.removeChild(gutter.lastChild); // the line end
        gutter.removeChild(gutter.lastChild); // the number
      }
      body.rows = n + 3;
      var longest = 0;
      body.value.split("\n").forEach(function (l) { longest = Math.max(longest, l.length); });
      body.cols = Math.min(Math.max(longest + 2, 60), 400);
    }

    // The text box is as tall as its text, so only the box scrolls; should
    // the text scroll by itself all the same (a paste the rows have not
    // caught up with), the gutter follows it.
    body.addEventListener("scroll", function () {
      gutter.style.transform = body.scrollTop ? "translateY(" + (-body.scrollTop) + "px)" : "";
    });

    function edited() {
      var changed = body.value !== saved;
      document.querySelectorAll("[data-show-on-edit]").forEach(function (el) { el.hidden = !changed; });
      document.querySelectorAll("[data-hide-on-edit]").forEach(function (el) { el.hidden = changed; });
    }
    body.addEventListener("input", function () { renumber(); edited(); });

    // A problem's link: the cursor at the start of its line, the line in view.
    document.querySelectorAll("a[data-line]").forEach(function (a) {
      a.addEventListener("click", function (ev) {
        var line = parseInt(a.getAttribute("data-line"), 10);
        if (!(line > 0)) return;
        ev.preventDefault();
        var lines = body.value.split("\n");
        var start = 0;
        for (var i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
        var end = start + (lines[line - 1] || "").length;
        body.focus({ preventScroll: true });
        body.setSelectionRange(start, end);
        var mark = document.getElementById("L" + line);
        if (mark && box) {
          box.scrollTop = Math.max(0, mark.offsetTop - box.clientHeight / 3);
          box.scrollIntoView({ block: "nearest" });
        }
        if (history.replaceState) history.replaceState(null, "", "#L" + line);
      });
    });
  });
})();
