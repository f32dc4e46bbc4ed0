// minipbx setup page: the little script it needs. Everything works without it except the
// live dashboard, the confirm countdown and the live hook watch.
"use strict";
(function () {
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  // Buttons that delete or restart ask first.
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest ? ev.target.closest("[data-confirm]") : null;
    if (b && !window.confirm(b.getAttribute("data-confirm"))) ev.preventDefault();
  });

  // A link to an entry (#entry-fxs.3, after adding it) opens its folded form.
  var target = window.location.hash &&
    document.getElementById(decodeURIComponent(window.location.hash.slice(1)));
  if (target && target.tagName === "DETAILS") target.open = true;

  // Dashboard: server-sent events carry the parts, rendered (and escaped) by the server.
  var live = document.getElementById("live");
  if (live && window.EventSource) {
    var state = document.getElementById("feed-state");
    var source = new EventSource(live.getAttribute("data-feed"));
    source.addEventListener("status", function (ev) {
      var parts = JSON.parse(ev.data);
      ["ports", "calls", "trunks", "load"].forEach(function (name) {
        var el = document.getElementById("part-" + name);
        if (el && parts[name] !== undefined && el.innerHTML !== parts[name]) {
          el.innerHTML = parts[name];
        }
      });
      if (state) { state.textContent = parts.summary; state.classList.remove("stale"); }
      live.setAttribute("data-updated", String(Date.now()));
    });
    source.onerror = function () {
      if (state) state.classList.add("stale");
      // A stream refused for good (the session ended): reload, which leads to the login.
      if (source.readyState === EventSource.CLOSED) {
        setTimeout(function () { window.location.reload(); }, 3000);
      }
    };
  }

  // Apply with confirm: count down to the automatic rollback, then show what happened.
  var counters = document.querySelectorAll(".countdown[data-deadline]");
  if (counters.length) {
    var tick = function () {
      counters.forEach(function (el) {
        var left = Math.max(0, Math.round(Number(el.getAttribute("data-deadline")) -
                                          Date.now() / 1000));
        el.textContent = left + " s";
        if (left === 0 && !el.getAttribute("data-done")) {
          el.setAttribute("data-done", "1");
          setTimeout(function () { window.location.reload(); }, 1500);
        }
      });
    };
    tick();
    setInterval(tick, 1000);
  }

  // Diagnostics: follow the board's hook signals live through the JSON API.
  var watch = document.getElementById("hook-watch");
  var rows = document.getElementById("hook-rows");
  if (watch && rows && window.fetch) {
    watch.hidden = false;
    var since = Number(watch.getAttribute("data-since")) || 0;
    var timer = null;
    var poll = function () {
      fetch("/api/hw.hook", {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
        body: JSON.stringify({since: since})
      }).then(function (r) { return r.json(); }).then(function (reply) {
        if (!reply.ok) { stop(); window.alert(reply.error); return; }
        reply.result.events.forEach(function (e) {
          var tr = document.createElement("tr");
          var detail = Object.keys(e).filter(function (k) {
            return ["seq", "type", "port", "at"].indexOf(k) < 0;
          }).map(function (k) { return k + " " + e[k]; }).join(", ");
          [e.seq, e.port, e.type, detail].forEach(function (v) {
            var td = document.createElement("td");
            td.textContent = v === undefined ? "" : String(v);
            tr.appendChild(td);
          });
          rows.appendChild(tr);
          while (rows.children.length > 200) rows.removeChild(rows.firstChild);
        });
        since = reply.result.last || since;
      }).catch(stop);
    };
    var stop = function () {
      if (timer) clearInterval(timer);
      timer = null;
      watch.textContent = "Watch live";
    };
    watch.addEventListener("click", function () {
      if (timer) { stop(); return; }
      timer = setInterval(poll, 500);
      poll();
      watch.textContent = "Stop watching";
    });
  }
})();
