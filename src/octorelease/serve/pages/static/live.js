// Live updates for the history page: while a run shown is queued or running, fetch the same
// page's fragment again every second (else every few seconds, to see new events) and swap it in.
// The fragment is rendered and escaped by the server; this script only replaces one element.
(function () {
  "use strict";
  var last = null;
  function box() { return document.getElementById("live"); }
  function schedule() {
    var current = box();
    if (!current) { return; }
    var seconds = parseFloat(current.getAttribute("data-refresh")) || 3;
    var live = current.getAttribute("data-live") === "true";
    window.setTimeout(refresh, (live ? 1 : seconds) * 1000);
  }
  function refresh() {
    var url = new URL(window.location.href);
    url.searchParams.set("fragment", "1");
    fetch(url.toString(), { cache: "no-store", headers: { "Accept": "text/html" } })
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) {
        var current = box();
        if (html !== null && html !== last && current) {
          var template = document.createElement("template");
          template.innerHTML = html;
          var fresh = template.content.querySelector("#live");
          if (fresh) { current.replaceWith(fresh); last = html; }
        }
      })
      .catch(function () { /* the service restarting: try again at the next tick */ })
      .then(schedule);
  }
  document.addEventListener("DOMContentLoaded", schedule);
})();
