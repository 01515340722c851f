// The sandbox's pages. Two jobs, no build step, nothing fetched from elsewhere:
// 1. route the "#/..." part of the links octorelease prints (/app#/Spaces-1/deployments/Deployments-6),
//    which never reaches the server, to the page's plain path (/app/Spaces-1/deployments/Deployments-6);
// 2. while something on a page runs, fetch the page's fragment (?fragment=1, rendered and escaped by
//    the server) and swap its <main> in, so the dashboard and a task's log follow live.
(function () {
  "use strict";
  var root = document.body ? document.body.getAttribute("data-root") || "/app/" : "/app/";

  // Octopus's own hash paths, as [pattern, plain path]; a part in {braces} is copied.
  var ROUTES = [
    [["{space}", "deployments", "{id}"], "{space}/deployments/{id}"],
    [["{space}", "tasks", "{id}"], "{space}/tasks/{id}"],
    [["{space}", "projects", "{project}", "releases", "{version}"], "{space}/projects/{project}/releases/{version}"],
    [["{space}", "projects", "{project}", "deployments", "releases", "{version}"],
      "{space}/projects/{project}/releases/{version}"],
    [["{space}", "releases", "{id}"], "{space}/releases/{id}"],
    [["spaces", "{space}"], "{space}/projects"]
  ];
  var SPACE = /^spaces-\d+$/i;

  function plainPath(hash) {
    var parts = hash.replace(/^#\/?/, "").split("?")[0].split("/").filter(function (p) { return p !== ""; });
    parts = parts.map(function (p) { try { return decodeURIComponent(p); } catch (e) { return p; } });
    for (var r = 0; r < ROUTES.length; r++) {
      var pattern = ROUTES[r][0], values = {}, matched = pattern.length === parts.length;
      for (var i = 0; matched && i < pattern.length; i++) {
        if (pattern[i].charAt(0) === "{") { values[pattern[i]] = parts[i]; } else { matched = pattern[i] === parts[i].toLowerCase(); }
      }
      if (matched && SPACE.test(values["{space}"])) {
        return root + ROUTES[r][1].replace(/\{\w+\}/g, function (name) { return encodeURIComponent(values[name]); });
      }
    }
    // any other Octopus page of a space: that space's dashboard
    return parts.length && SPACE.test(parts[0]) ? root + encodeURIComponent(parts[0]) + "/projects" : null;
  }

  function route() {
    var here = window.location.pathname;
    if (window.location.hash.length > 2 && (here + "/" === root || here === root)) {
      var target = plainPath(window.location.hash);
      if (target) { window.location.replace(target); return true; }
    }
    return false;
  }

  function box() { return document.getElementById("live"); }

  function busy(main) {
    var active = document.activeElement;
    return active && main.contains(active) && /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(active.tagName);
  }

  function schedule() {
    var main = box();
    if (!main) { return; }
    var live = main.getAttribute("data-live") === "true";
    var seconds = parseFloat(main.getAttribute("data-refresh")) || 5;
    window.setTimeout(refresh, (live ? 0.5 : seconds) * 1000);
  }

  function refresh() {
    var url = new URL(window.location.href);
    url.hash = "";
    url.searchParams.set("fragment", "1");
    fetch(url.toString(), { cache: "no-store", credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) {
        var main = box();
        if (html === null || !main || busy(main)) { return; }
        var template = document.createElement("template");
        template.innerHTML = html;
        var fresh = template.content.querySelector("#live");
        if (!fresh || fresh.isEqualNode(main)) { return; }
        var follow = main.getAttribute("data-follow") === "true" &&
          window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
        keepClosed(main, fresh);
        main.replaceWith(fresh);
        if (follow) { window.scrollTo(0, document.body.scrollHeight); }
      })
      .catch(function () { /* the sandbox restarting: try again at the next tick */ })
      .then(schedule);
  }

  // a machine's log the reader folded stays folded when the page is refreshed
  function keepClosed(main, fresh) {
    var old = main.querySelectorAll("details.machine"), now = fresh.querySelectorAll("details.machine");
    for (var i = 0; i < old.length && i < now.length; i++) { if (!old[i].open) { now[i].open = false; } }
  }

  if (!route()) {
    window.addEventListener("hashchange", route);
    if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", schedule); } else { schedule(); }
  }
})();
