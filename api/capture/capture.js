// Baton's first-party capture script, served by Baton at /capture.js.
// Add it to every page with the site's capture key:
//   <script src="https://baton.example.com/capture.js" data-key="bc_..." defer></script>
// It records a page view per page load, and posts the forms marked with
// data-baton-form to Baton (showing the answer in the form's
// [data-baton-message] element); a plain form whose action is Baton's form
// endpoint gets the visitor's id as a hidden field. The visitor's id is
// random, first-party (this site's localStorage, key "baton_aid"), and
// links the visitor's page views to the lead when they send a form.
// Nothing else is read or kept: no cookies, no third parties.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.getAttribute("data-key")) {
    return;
  }
  var key = script.getAttribute("data-key");
  var base = new URL(script.src).origin;
  var formURL = base + "/capture/v1/form";

  function uuid() {
    if (window.crypto && crypto.randomUUID) {
      return crypto.randomUUID();
    }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
  }

  var memo;
  function anonymousId() {
    if (memo) {
      return memo;
    }
    try {
      memo = localStorage.getItem("baton_aid");
      if (!memo) {
        memo = uuid();
        localStorage.setItem("baton_aid", memo);
      }
    } catch (e) {
      memo = memo || uuid(); // storage refused: an id for this page only
    }
    return memo;
  }

  function send(url, body, type) {
    return fetch(url + "?key=" + encodeURIComponent(key), {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      keepalive: true,
      headers: { "Content-Type": type },
      body: JSON.stringify(body)
    });
  }

  function page() {
    // text/plain, as Segment's analytics.js sends: no CORS preflight.
    return send(base + "/v1/page", {
      type: "page",
      messageId: "bc-" + uuid(),
      anonymousId: anonymousId(),
      name: document.title,
      properties: { url: location.href, path: location.pathname, title: document.title, referrer: document.referrer },
      context: { page: { url: location.href, path: location.pathname } },
      timestamp: new Date().toISOString()
    }, "text/plain").then(function (r) {
      return r.ok;
    }, function () {
      return false;
    });
  }

  function show(form, state, text) {
    form.setAttribute("data-baton-state", state);
    var el = form.querySelector("[data-baton-message]");
    if (el) {
      el.textContent = text;
    }
    form.dispatchEvent(new CustomEvent("baton:form", { bubbles: true, detail: { state: state, message: text } }));
  }

  function bind(form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var data = {};
      new FormData(form).forEach(function (v, k) {
        if (typeof v === "string") {
          data[k] = v;
        }
      });
      data.anonymous_id = anonymousId();
      data.message_id = "bc-" + uuid();
      data.page = location.href;
      data.form = data.form || form.getAttribute("data-baton-form") || form.id || "";
      show(form, "sending", "");
      send(formURL, data, "application/json").then(function (r) {
        return r.json().then(function (b) {
          if (r.ok) {
            form.reset();
            show(form, "sent", form.getAttribute("data-baton-thanks") || "Thank you: your form was sent.");
          } else {
            show(form, "error", (b && b.error && b.error.message) || "The form was not sent: try again.");
          }
        });
      }).catch(function () {
        show(form, "error", "The form could not be sent: check your connection and try again.");
      });
    });
  }

  function start() {
    var forms = document.querySelectorAll("form");
    for (var i = 0; i < forms.length; i++) {
      var f = forms[i];
      if (f.hasAttribute("data-baton-form")) {
        bind(f);
      } else if (f.action.indexOf(formURL) === 0 && !f.querySelector('input[name="anonymous_id"]')) {
        var h = document.createElement("input");
        h.type = "hidden";
        h.name = "anonymous_id";
        h.value = anonymousId();
        f.appendChild(h);
      }
    }
    page().then(recorded);
  }

  // baton.ready settles when the page view of this load is answered: true
  // if Baton recorded it. baton.page() records another (a single-page
  // app's route change), with the same promise.
  var recorded;
  var ready = new Promise(function (resolve) {
    recorded = resolve;
  });
  window.baton = { anonymousId: anonymousId, page: page, ready: ready };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
