// Köprü dashboard: counts and a job's status update by themselves. One small JSON read every
// five seconds per open page; the hub reads its store for it at most once a second.
(function () {
  "use strict";
  var counters = document.querySelectorAll("[data-live]");
  var jobPage = document.querySelector("[data-job-page]");
  if (counters.length === 0 && !jobPage) { return; }
  function refresh() {
    fetch("/dashboard/live.json", { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (live) {
        if (!live) { return; }
        counters.forEach(function (element) {
          var value = live[element.getAttribute("data-live")];
          if (typeof value === "number") { element.textContent = String(value); }
        });
      })
      .catch(function () {});
    if (jobPage && /pending|running/.test(document.getElementById("job-status").className)) {
      // A job still to finish (a replay being watched): its page is drawn again until it has.
      fetch(window.location.pathname, { credentials: "same-origin", cache: "no-store" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var page = new DOMParser().parseFromString(html, "text/html");
          var main = page.querySelector("main");
          if (main) { document.querySelector("main").replaceWith(main); jobPage = document.querySelector("[data-job-page]"); }
        })
        .catch(function () {});
    }
  }
  window.setInterval(refresh, 5000);
})();
