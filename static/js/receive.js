// Sounds staff can tell apart without looking: one high beep (counted), two short (duplicate), a low buzz
// (anything wrong), and within "wrong" a sound of its own for surplus, a foreign code and a wrong product.
// Generated with WebAudio: no files to load, nothing to go missing. A scan that needs attention also
// flashes the whole screen in its class's colour with its class in big letters, readable from 2 m.
(function () {
  "use strict";
  // "queued": two rising notes, kept on the device (the handheld page offline), not yet counted.
  var PATTERNS = { ok: [[1046, 0.12]], duplicate: [[660, 0.09], [0, 0.06], [660, 0.09]], error: [[160, 0.6]],
    queued: [[523, 0.08], [0, 0.04], [784, 0.08]] };
  // Within the error buzz, a class's own pattern: a rising pair (surplus), three pulses (a foreign act's
  // code), a falling pair (another product). The kind (ok, duplicate, error) stays what the page reports.
  var BY_CLASS = { surplus: [[220, 0.2], [0, 0.05], [330, 0.3]],
    foreign: [[180, 0.12], [0, 0.05], [180, 0.12], [0, 0.05], [180, 0.12]],
    wrong_product: [[440, 0.18], [220, 0.35]] };
  var FLASHED = { duplicate: 1, surplus: 1, foreign: 1, wrong_product: 1, invalid: 1, product: 1, refused: 1 };
  var ctx = null;
  function flash(cls, words) {
    if (!FLASHED[cls]) { return; }
    var el = document.getElementById("screen-flash");
    if (!el) {
      el = document.createElement("div");
      el.id = "screen-flash";
      el.setAttribute("aria-hidden", "true");  // the banner itself is the live region
      document.body.appendChild(el);
    }
    el.textContent = words || "";
    el.className = "screen-flash flash-" + cls;
    void el.offsetWidth;  // restart the animation when the same class comes twice
    el.classList.add("on");
    document.body.dataset.lastFlash = cls;
  }
  function play(kind, cls) {
    var steps = (cls && kind === "error" && BY_CLASS[cls]) || PATTERNS[kind] || PATTERNS.error;
    try { ctx = ctx || new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { return; }
    var t = ctx.currentTime;
    steps.forEach(function (s) {
      if (s[0]) {
        var o = ctx.createOscillator(), g = ctx.createGain();
        o.type = kind === "error" ? "square" : "sine";
        o.frequency.value = s[0];
        g.gain.value = 0.25;
        o.connect(g); g.connect(ctx.destination);
        o.start(t); o.stop(t + s[1]);
      }
      t += s[1];
    });
    document.body.dataset.lastSound = kind;
    if (cls) { document.body.dataset.lastClass = cls; }
  }
  window.warehouseSound = play;
  window.warehouseFlash = flash;
  function words(el) {
    var label = el.querySelector("strong, .class-label");
    return label ? label.textContent.trim() : "";
  }

  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.target.id === "result") {
      var banner = e.target.querySelector("[data-sound]");
      if (banner) {
        // Stop mode: after a scan that needs attention the station takes no scan until it is confirmed.
        document.body.dataset.stopped = banner.dataset.stop ? "1" : "";
        play(banner.dataset.sound, banner.dataset.class);
        flash(banner.dataset.class || (banner.dataset.sound === "error" ? "refused" : banner.dataset.sound),
          words(banner) || "✗");
      }
    }
  });
  // Stop mode: Enter in the empty scan field confirms (the printed "Confirm" code does the same).
  document.addEventListener("keydown", function (e) {
    var field = e.target;
    if (e.key !== "Enter" || document.body.dataset.stopped !== "1" || !field || field.id !== "scan-field") { return; }
    if (field.value || !field.form || !field.form.elements.code) { return; }
    field.form.elements.code.value = "#WH:CONFIRM";
    field.form.elements.scan_id.value = (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
      : String(Date.now()) + Math.random();
    // The Enter goes on: the form's implicit submission sends it.
  }, true);
  // Scans from hardware scanners of this station arrive only through the live stream: beep for them (a
  // page sounds its own scans and photos from their answers).
  document.addEventListener("htmx:sseMessage", function (e) {
    if (!e.detail || e.detail.type !== "scan") { return; }
    var screen = document.querySelector(".receive");
    var row = document.querySelector("#journal tr");
    if (screen && row && row.dataset.station === screen.dataset.station && row.dataset.source !== "browser" && row.dataset.source !== "photo") {
      play(row.dataset.sound, row.dataset["class"]);
      flash(row.dataset["class"], words(row));
    }
    var rows = document.querySelectorAll("#journal tr");
    for (var i = 50; i < rows.length; i++) { rows[i].remove(); }
  });
})();
