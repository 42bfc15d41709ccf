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
  // The server sends a run of identical healthy days as one cell (data-day, data-days) titled
  // with its range; draw one cell per day again, each with its own title, as for other days.
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function expandBars(root) {
    var ns = "http://www.w3.org/2000/svg";
    (root || document).querySelectorAll("rect.day[data-days]").forEach(function (run) {
      var first = Date.parse(run.getAttribute("data-day") + "T00:00:00Z");
      var days = +run.getAttribute("data-days"), x = +run.getAttribute("x");
      var text = run.textContent, detail = text.slice(text.indexOf(": "));
      if (isNaN(first) || !(days > 0) || detail.indexOf(": ") !== 0) return;
      var frag = document.createDocumentFragment();
      for (var i = 0; i < days; i++) {
        var d = new Date(first + i * 86400000);
        var cell = document.createElementNS(ns, "rect");
        cell.setAttribute("class", run.getAttribute("class"));
        cell.setAttribute("x", String(x + 5 * i));
        cell.setAttribute("width", "4");
        cell.setAttribute("height", run.getAttribute("height"));
        cell.setAttribute("rx", "1");
        var title = document.createElementNS(ns, "title");
        title.textContent = MONTHS[d.getUTCMonth()] + " " + d.getUTCDate() + detail;
        cell.appendChild(title);
        frag.appendChild(cell);
      }
      run.replaceWith(frag);
    });
  }
  expandBars();
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
        expandBars(fresh);
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
