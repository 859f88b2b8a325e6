// The browser fallback of a keyboard-wedge scanner: decode by physical key (KeyboardEvent.code) with a
// fixed US layout, so a Russian or Kazakh layout cannot turn the code into Cyrillic. Ctrl+] and
// Alt + numeric-keypad decimal codes (Alt+0029) give GS. Enter, keypad Enter and Tab end a scan.
(function () {
  "use strict";
  var GS = "\u001d";
  var US = {
    Digit1: ["1", "!"], Digit2: ["2", "@"], Digit3: ["3", "#"], Digit4: ["4", "$"], Digit5: ["5", "%"],
    Digit6: ["6", "^"], Digit7: ["7", "&"], Digit8: ["8", "*"], Digit9: ["9", "("], Digit0: ["0", ")"],
    Minus: ["-", "_"], Equal: ["=", "+"], BracketLeft: ["[", "{"], BracketRight: ["]", "}"],
    Backslash: ["\\", "|"], IntlBackslash: ["\\", "|"], Semicolon: [";", ":"], Quote: ["'", "\""],
    Backquote: ["`", "~"], Comma: [",", "<"], Period: [".", ">"], Slash: ["/", "?"], Space: [" ", " "],
    NumpadDecimal: [".", "."], NumpadAdd: ["+", "+"], NumpadSubtract: ["-", "-"],
    NumpadMultiply: ["*", "*"], NumpadDivide: ["/", "/"]
  };
  for (var i = 0; i < 10; i++) { US["Numpad" + i] = [String(i), String(i)]; }
  var TERMINATORS = { Enter: 1, NumpadEnter: 1, Tab: 1 };

  function newState() { return { text: "", alt: null }; }

  // Returns "submit" when a scan ended, true when the key was consumed, false when it is not ours.
  function decodeKey(state, e) {
    if (e.type === "keyup") {
      if ((e.code === "AltLeft" || e.code === "AltRight") && state.alt !== null) {
        if (state.alt.length) { state.text += String.fromCharCode(parseInt(state.alt, 10) % 256); }
        state.alt = null;
        return true;
      }
      return false;
    }
    if (e.code === "AltLeft" || e.code === "AltRight") { state.alt = ""; return true; }
    if (state.alt !== null && /^Numpad[0-9]$/.test(e.code)) { state.alt += e.code.slice(6); return true; }
    if (TERMINATORS[e.code]) { return "submit"; }
    if (e.ctrlKey && e.code === "BracketRight") { state.text += GS; return true; }
    if (e.ctrlKey || e.metaKey || e.altKey) { return false; }
    if (e.code === "Backspace") { state.text = state.text.slice(0, -1); return true; }
    if (e.code === "Escape") { state.text = ""; return true; }
    var shift = e.shiftKey;
    var m = /^Key([A-Z])$/.exec(e.code);
    if (m) {
      var caps = e.getModifierState && e.getModifierState("CapsLock");
      state.text += (shift !== !!caps) ? m[1] : m[1].toLowerCase();
      return true;
    }
    var pair = US[e.code];
    if (pair) { state.text += pair[shift ? 1 : 0]; return true; }
    return false;
  }

  // A key that types a character of a code (letters, digits, punctuation, Ctrl+] for GS, Alt+keypad).
  function printable(e) {
    if (e.type !== "keydown") { return false; }
    if (e.ctrlKey && e.code === "BracketRight") { return true; }
    if (e.code === "AltLeft" || e.code === "AltRight") { return false; }
    if (e.ctrlKey || e.metaKey || e.altKey) { return false; }
    return /^Key[A-Z]$/.test(e.code) || Object.prototype.hasOwnProperty.call(US, e.code);
  }

  function typing(el) {
    if (!el || !el.tagName) { return false; }
    if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") { return true; }
    if (el.tagName !== "INPUT") { return false; }
    return !/^(button|submit|reset|checkbox|radio|file|range|color|image|hidden)$/.test(el.type);
  }

  function shown(text) { return text.split(GS).join("\u241d"); }

  var STUCK_MS = 15000;  // a request that never ended (no afterRequest) must not hold the scans back for good

  function attach(field) {
    var state = newState();
    var form = field.form;
    // Scans read while the previous one is on its way wait here and go in order, one request at a time:
    // htmx drops a request an element triggers while its last is in flight, so a quick second scan was lost.
    var pending = [];
    var sentAt = 0;
    function submit() {
      // Nothing came through the keys, but the field holds text: typed on a phone's own keyboard (its keys
      // carry no code to decode), or filled in by the browser. Taken as it is; the server repairs a layout.
      var text = state.text || field.value.trim().split("\u241d").join(GS);
      if (!text) { return; }
      var id = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
      state.text = "";
      field.value = "";
      if (form.hasAttribute("data-scan-queue")) {
        // The page sends it itself (handheld.js keeps it on the device until the station has answered).
        form.dispatchEvent(new CustomEvent("warehouse:scan", { detail: { code: text, scanId: id } }));
        field.focus();
      } else if (form.dataset.wedgeSubmit === "native") {
        form.elements.code.value = text;
        form.elements.scan_id.value = id;
        // Later, not now: called from the form's own submit event, a submission now would be ignored.
        setTimeout(function () { if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); } }, 0);
      } else {
        pending.push({ code: text, id: id });
        sendNext();
      }
    }
    function sendNext() {
      if (!pending.length || (sentAt && Date.now() - sentAt < STUCK_MS)) { return; }
      var scan = pending.shift();
      form.elements.code.value = scan.code;
      form.elements.scan_id.value = scan.id;
      sentAt = Date.now();
      if (!window.htmx) { form.submit(); return; }
      started = false;
      htmx.trigger(form, "submit");  // htmx starts the request at once (htmx:beforeRequest) ...
      if (!started) {  // ... unless it has not set the form up yet: the scan waits for it, first in line
        sentAt = 0;
        pending.unshift(scan);
        setTimeout(sendNext, 100);
      }
    }
    var started = false;
    form.addEventListener("htmx:beforeRequest", function () { started = true; });
    function onKey(e) {
      var r = decodeKey(state, e);
      if (r === false) { return; }
      // Tab or Enter with nothing scanned is a person's: Tab moves on to the page (a code's Take off
      // button), as a keyboard user expects; an empty Enter submits nothing (the form's handler below).
      if (r === "submit" && !state.text) { return; }
      e.preventDefault();
      if (r === "submit") { submit(); } else { field.value = shown(state.text); }
    }
    field.addEventListener("keydown", onKey);
    field.addEventListener("keyup", onKey);
    // The scanner types wherever the focus is: after a click on a heading, a menu or a button, its keys
    // still reach the scan field (as Odoo's barcode screens do), except inside another text field. Keys a
    // person uses to work the page (Enter and Space on a button, Tab, Escape, Backspace) stay theirs
    // while no scan is under way.
    document.addEventListener("keydown", function (e) { elsewhere(e); }, true);
    document.addEventListener("keyup", function (e) { elsewhere(e); }, true);
    function elsewhere(e) {
      if (e.target === field || typing(e.target)) { return; }
      var idle = !state.text && state.alt === null;
      if (idle && (!printable(e) || e.code === "Space")) { return; }
      var r = decodeKey(state, e);
      if (r === false) { return; }
      e.preventDefault();
      e.stopPropagation();
      if (r === "submit") { submit(); } else { field.value = shown(state.text); }
    }
    field.addEventListener("paste", function (e) {
      // Pasted text keeps its characters; the server repairs a layout that mangled it.
      e.preventDefault();
      state.text += (e.clipboardData || window.clipboardData).getData("text").replace(/[\r\n\t]+$/, "");
      field.value = shown(state.text);
    });
    form.addEventListener("submit", function (e) {
      if (!form.elements.code.value) { e.preventDefault(); submit(); }
    });
    form.addEventListener("htmx:afterRequest", function () {
      form.elements.code.value = "";
      sentAt = 0;
      field.focus();
      setTimeout(sendNext, 0);  // once htmx has let go of this request (else it would queue the next itself)
    });
  }

  window.warehouseWedge = { decodeKey: decodeKey, newState: newState };
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-wedge]").forEach(function (field) {
      attach(field);
      field.dataset.wedgeReady = "1";  // the keys are decoded from now on (tests wait for it)
    });
  });
})();
