// The handheld page: every scan is kept on the device (localStorage) with its scan_id until the station has
// answered it, and sent in order, one at a time, to the receiving screen's own scan endpoint — which answers
// a scan_id it has seen with what it did the first time, so a scan sent twice counts once. A network failure
// (no connection, the station down, 5xx, a refusal that is not a scan's: an expired form) keeps the scan and
// tries again; a scan the station refused (a closed act, a code it cannot hold) is shown and dropped: sending
// it again would be refused again. Words come from the page's data attributes (the catalogs), sounds from
// receive.js (window.warehouseSound).
(function () {
  "use strict";
  var PREFIX = "warehouse.handheld.";
  var RETRY_MS = [1000, 2000, 5000, 10000, 20000];
  var ROUTE = /^(?:\][A-Za-z][0-9])?#WHACT:[0-9]{1,12}$/i;  // warehouse/station/routing.py's route code

  function storageKey(actId) { return PREFIX + actId; }

  function load(actId) {
    try {
      var data = JSON.parse(localStorage.getItem(storageKey(actId)) || "null");
      return data && Array.isArray(data.items) ? data : { number: "", items: [] };
    } catch (e) { return { number: "", items: [] }; }
  }

  function save(actId, data) {
    if (data.items.length) { localStorage.setItem(storageKey(actId), JSON.stringify(data)); }
    else { localStorage.removeItem(storageKey(actId)); }
  }

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }

  function sound(kind) { if (window.warehouseSound) { window.warehouseSound(kind); } }

  function vibrate() {
    document.body.dataset.vibrations = String(Number(document.body.dataset.vibrations || 0) + 1);
    if (navigator.vibrate) { navigator.vibrate([200, 100, 200]); }
  }

  // The act page.
  function scanPage(root) {
    var actId = root.dataset.act;
    var verdict = document.getElementById("result");
    var waiting = document.getElementById("waiting");
    var connection = document.getElementById("connection");
    var stateBox = document.getElementById("state");
    var form = document.getElementById("scan-form");
    var busy = false;
    var failures = 0;
    var timer = null;
    var paused = false;  // the session ended: nothing is sent until the person logs in again

    function showWaiting() {
      var n = load(actId).items.length;
      waiting.dataset.count = String(n);
      waiting.textContent = root.dataset.waiting.replace("{n}", String(n));
      waiting.hidden = n === 0;
    }

    function say(text, link) {
      connection.replaceChildren();
      connection.hidden = !text;
      if (!text) { return; }
      connection.append(document.createTextNode(text));
      if (link) {
        var a = document.createElement("a");
        a.href = root.dataset.pageUrl;
        a.textContent = root.dataset.logIn;
        connection.append(" ", a);
      }
    }

    function showCode(code) {
      var p = document.createElement("p");
      p.className = "hh-code";
      p.textContent = code.split("\u001d").join("\u241d");
      verdict.append(p);
    }

    function showAnswer(html, code) {
      verdict.innerHTML = html;
      var banner = verdict.querySelector("[data-sound]");
      var kind = banner ? banner.dataset.sound : "error";
      // A recorded scan's message names its code; a refusal's may not: say which one it was.
      if (!banner || banner.dataset.scanAnswer === "refused") { showCode(code); }
      sound(kind);
      if (kind === "error") { vibrate(); }
    }

    function showQueued(code) {
      var p = document.createElement("p");
      p.className = "banner banner-queued";
      p.dataset.sound = "queued";
      p.textContent = root.dataset.queued;
      verdict.replaceChildren(p);
      showCode(code);
      sound("queued");
    }

    function refreshState() {
      fetch(root.dataset.stateUrl, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) { stateBox.innerHTML = html; } })
        .catch(function () { /* the live stream or the next send brings it */ });
    }

    function later() {
      if (timer) { return; }
      var wait = RETRY_MS[Math.min(failures, RETRY_MS.length - 1)];
      failures += 1;
      timer = setTimeout(function () { timer = null; drain(); }, wait);
    }

    function drop(scanId) {
      var data = load(actId);
      data.items = data.items.filter(function (item) { return item.scanId !== scanId; });
      save(actId, data);
      showWaiting();
    }

    // Send the oldest waiting scan; on its answer, the next. One at a time, so they arrive in order.
    function drain() {
      if (busy || paused) { return; }
      var item = load(actId).items[0];
      if (!item) { return; }
      busy = true;
      var body = new FormData();
      body.append("code", item.code);
      body.append("scan_id", item.scanId);
      fetch(root.dataset.scanUrl, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" }
      }).then(function (response) {
        return response.text().then(function (html) { return { status: response.status, html: html }; });
      }).then(function (answer) {
        busy = false;
        var parsed = document.createElement("div");
        parsed.innerHTML = answer.html;
        // A scan's answer (recorded, or refused for what it is) carries data-scan-answer; anything else —
        // an expired form, the session ended, the station failing — says nothing about the scan: keep it.
        if (parsed.querySelector("[data-scan-answer]")) {
          failures = 0;
          drop(item.scanId);
          say("");
          showAnswer(answer.html, item.code);
          if (load(actId).items.length) { drain(); } else { refreshState(); }
          return;
        }
        // The session ended (401), or the page's form token is no longer the session's (400: logged out
        // and in again elsewhere): nothing goes until the page is opened again, which asks for the login.
        if (answer.status === 400 || answer.status === 401 || answer.status === 403) {
          paused = true;
          say(root.dataset.session, true);
          vibrate();
          return;
        }
        say(root.dataset.retry);
        later();
      }, function () {
        busy = false;  // no connection: the scan stays; again when the browser is back online, or later
        say(root.dataset.offline);
        var items = load(actId).items;
        if (items.length && !verdict.querySelector(".banner-queued")) { showQueued(items[items.length - 1].code); }
        later();
      });
    }

    form.addEventListener("submit", function (e) { e.preventDefault(); }, true);
    form.addEventListener("warehouse:scan", function (e) {
      // Another act's route code (the act page's #WHACT:<id>) opens that act rather than being recorded
      // here, once this act's scans are all sent (else they would wait behind a page no longer open).
      if (ROUTE.test(e.detail.code.trim())) {
        if (load(actId).items.length) {
          say(root.dataset.switchWait);
          sound("error");
          return;
        }
        window.location.assign(root.dataset.findUrl + "?code=" + encodeURIComponent(e.detail.code.trim()));
        return;
      }
      var data = load(actId);
      data.number = root.dataset.number;
      data.items.push({ code: e.detail.code, scanId: e.detail.scanId, at: new Date().toISOString() });
      save(actId, data);
      showWaiting();
      if (busy || !navigator.onLine || load(actId).items.length > 1) { showQueued(e.detail.code); }
      drain();
    });
    window.addEventListener("online", function () {
      failures = 0;
      if (timer) { clearTimeout(timer); timer = null; }
      say("");
      drain();
    });
    window.addEventListener("offline", function () { say(root.dataset.offline); });
    // A photo's answer: its worst code buzzes; the state follows its scans.
    document.body.addEventListener("htmx:afterSwap", function (e) {
      if (e.target !== verdict) { return; }
      var banner = verdict.querySelector("[data-sound]");
      if (banner && banner.dataset.sound === "error") { vibrate(); }
      refreshState();
    });
    showWaiting();
    if (!navigator.onLine) { say(root.dataset.offline); }
    drain();
  }

  // The choice of act: scans still waiting on this device for an act, with the way back to it.
  function choicePage(box) {
    var lines = [];
    for (var i = 0; i < localStorage.length; i++) {
      var key = localStorage.key(i);
      if (key && key.indexOf(PREFIX) === 0) {
        var actId = key.slice(PREFIX.length);
        var data = load(actId);
        if (data.items.length) { lines.push([actId, data]); }
      }
    }
    lines.forEach(function (line) {
      var a = document.createElement("a");
      a.href = box.dataset.url.replace(/0$/, line[0]);
      a.className = "flash flash-error";
      a.textContent = box.dataset.text.replace("{number}", line[1].number || line[0])
        .replace("{n}", String(line[1].items.length));
      box.append(a);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("handheld");
    if (root) { scanPage(root); }
    var box = document.getElementById("waiting-elsewhere");
    if (box) { choicePage(box); }
  });
})();
