// What the pages once did in inline attributes, which the Content-Security-Policy refuses (no inline script):
// a confirmation before some forms submit, the full-screen button, the upload's progress bar.
(function () {
  "use strict";
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var question = form && form.dataset ? form.dataset.confirm : null;
    if (question && !window.confirm(question)) { e.preventDefault(); }
  }, true);
  document.addEventListener("click", function (e) {
    var button = e.target.closest ? e.target.closest("[data-fullscreen]") : null;
    var root = document.documentElement;
    if (button && root.requestFullscreen) { root.requestFullscreen(); }
  });
  document.addEventListener("htmx:xhr:progress", function (e) {
    var bar = document.getElementById("upload-progress");
    if (bar && e.detail.lengthComputable) { bar.value = e.detail.loaded / e.detail.total * 100; }
  });
  // A review form with changed lines warns before the page is left without saving them.
  var dirty = null;
  document.addEventListener("change", function (e) {
    var form = e.target.form;
    if (form && form.hasAttribute("data-warn-unsaved")) { dirty = form; }
  });
  document.addEventListener("input", function (e) {
    var form = e.target.form;
    if (form && form.hasAttribute("data-warn-unsaved")) { dirty = form; }
  });
  document.addEventListener("submit", function (e) { if (e.target === dirty) { dirty = null; } });
  window.addEventListener("beforeunload", function (e) {
    if (dirty) { e.preventDefault(); e.returnValue = dirty.dataset.unsaved || ""; }
  });
  // A refused or failed upload must not leave the bar at 100 % as if it had gone through.
  document.addEventListener("htmx:afterRequest", function (e) {
    var bar = document.getElementById("upload-progress");
    if (bar && !e.detail.successful) { bar.value = 0; }
  });
  // The server could not be reached: say so where the answer was awaited, and that nothing was recorded.
  document.addEventListener("htmx:sendError", function (e) {
    var target = e.detail.target;
    var text = document.documentElement.dataset.unreachable;
    if (target && text) {
      var p = document.createElement("p");
      p.className = "flash flash-error";
      p.setAttribute("role", "alert");
      p.textContent = text;
      target.replaceChildren(p);
    }
    if (window.warehouseSound) { window.warehouseSound("error"); }
  });
})();
