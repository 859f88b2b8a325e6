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
})();
