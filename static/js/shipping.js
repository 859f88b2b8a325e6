// The outgoing act's screen. A live update never replaces price fields a person is editing (typed and not
// saved): the update of that table waits, and the table is fetched again once nothing typed is pending (the
// counters above it keep updating). A code taken off with the keyboard gives the focus back to the scan field.
(function () {
  "use strict";
  function edited(region) {
    var fields = region.querySelectorAll("input[name^='price:']");
    for (var i = 0; i < fields.length; i++) {
      if (fields[i].value !== fields[i].defaultValue) { return true; }
    }
    return false;
  }
  function refresh(region) {
    delete region.dataset.stale;
    if (window.htmx && region.dataset.refresh) {
      htmx.ajax("GET", region.dataset.refresh, { target: region, swap: "innerHTML" });
    }
  }
  document.addEventListener("htmx:sseBeforeMessage", function (e) {
    var region = e.target;
    if (region.hasAttribute && region.hasAttribute("data-keep-typed") && edited(region)) {
      e.preventDefault();
      region.dataset.stale = "1";
    }
  });
  // Typed back to what was saved: nothing is pending any more, so the held-back update comes in.
  document.addEventListener("input", function (e) {
    var region = e.target.closest ? e.target.closest("[data-keep-typed]") : null;
    if (region && region.dataset.stale && !edited(region)) { refresh(region); }
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var form = e.target.closest ? e.target.closest("form.take-off") : null;
    var field = document.getElementById("scan-field");
    if (form && field) { field.focus(); }
  });
})();
