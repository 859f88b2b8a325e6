// Sounds staff can tell apart without looking: one high beep (counted), two short (duplicate), a low buzz
// (anything wrong). Generated with WebAudio: no files to load, nothing to go missing.
(function () {
  "use strict";
  // "queued": two rising notes, kept on the device (the handheld page offline), not yet counted.
  var PATTERNS = { ok: [[1046, 0.12]], duplicate: [[660, 0.09], [0, 0.06], [660, 0.09]], error: [[160, 0.6]],
    queued: [[523, 0.08], [0, 0.04], [784, 0.08]] };
  var ctx = null;
  function play(kind) {
    var steps = PATTERNS[kind] || PATTERNS.error;
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
  }
  window.warehouseSound = play;

  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.target.id === "result") {
      var banner = e.target.querySelector("[data-sound]");
      if (banner) { play(banner.dataset.sound); }
    }
  });
  // Scans from hardware scanners of this station arrive only through the live stream: beep for them (a
  // page sounds its own scans and photos from their answers).
  document.addEventListener("htmx:sseMessage", function (e) {
    if (!e.detail || e.detail.type !== "scan") { return; }
    var screen = document.querySelector(".receive");
    var row = document.querySelector("#journal tr");
    if (screen && row && row.dataset.station === screen.dataset.station && row.dataset.source !== "browser" && row.dataset.source !== "photo") {
      play(row.dataset.sound);
    }
    var rows = document.querySelectorAll("#journal tr");
    for (var i = 50; i < rows.length; i++) { rows[i].remove(); }
  });
})();
