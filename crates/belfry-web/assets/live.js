(function () {
  "use strict";
  var body = document.body;
  // The reader's own time next to the page's zone (progressive enhancement).
  function localTimes(root) {
    var fmt;
    try {
      fmt = new Intl.DateTimeFormat(undefined, {
        year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short"
      });
    } catch (e) { return; }
    (root || document).querySelectorAll("time[data-local]").forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (isNaN(d)) return;
      var s = t.nextElementSibling;
      if (!s || !s.classList.contains("local")) {
        s = document.createElement("span");
        s.className = "local";
        t.insertAdjacentElement("afterend", s);
      }
      s.textContent = " (" + fmt.format(d) + " your time)";
    });
  }
  localTimes();
  if (body.dataset.live !== "1" || !window.EventSource || !window.fetch) return;
  var busy = false, again = false;
  // Fetch this page again (served from precomputed bytes) and swap its live part in place,
  // keeping which groups the reader opened or closed.
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(location.pathname + location.search, { cache: "no-cache", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("live"), cur = document.getElementById("live");
        if (!fresh || !cur) return;
        var open = {};
        cur.querySelectorAll("details[id]").forEach(function (d) { open[d.id] = d.open; });
        fresh.querySelectorAll("details[id]").forEach(function (d) { if (d.id in open) d.open = open[d.id]; });
        cur.replaceWith(document.adoptNode(fresh));
        document.title = doc.title;
        localTimes(fresh);
        body.dataset.lastUpdate = String(Date.now());
      })
      .catch(function () {})
      .then(function () { busy = false; if (again) { again = false; refresh(); } });
  }
  var connected = false;
  var source = new EventSource(body.dataset.stream);
  source.addEventListener("hello", function () {
    // A reconnect (e.g. after a server restart) may have missed changes.
    if (connected) refresh();
    connected = true;
    body.dataset.streamState = "open";
  });
  source.addEventListener("change", function (e) {
    body.dataset.lastEvent = e.data;
    refresh();
  });
  source.addEventListener("error", function () { body.dataset.streamState = "reconnecting"; });
})();
