/* Sign the acceptance document(s) with NCALayer and post the CMS back; the server verifies them.
 *
 * NCALayer is NCA RK's desktop service: a WebSocket (wss://127.0.0.1:13579 by default; the page's
 * data-url) speaking JSON. On connect it greets with {"result": {"version": "…"}}; we then ask module
 * kz.gov.pki.knca.commonUtils, method createCAdESFromBase64, for a detached CAdES (last argument
 * false) of each base64 document with a signing key ("SIGNATURE") from any storage ("PKCS12").
 * It answers {"code": "200", "responseObject": "<base64 CMS>"} or {"code": "500", "message": "…"}
 * ("action.canceled" when the person closed its window). NCALayer itself asks for the key and its
 * password: neither ever reaches this page.
 */
(function () {
  "use strict";
  var form = document.getElementById("ncalayer-form");
  var button = document.getElementById("ncalayer-sign");
  if (!form || !button) { return; }
  var status = document.getElementById("ncalayer-status");
  var documents = JSON.parse(document.getElementById("ncalayer-documents").textContent);

  function say(key, detail) {
    status.textContent = (form.dataset[key] || "") + (detail ? " " + detail : "");
  }

  function connect(url) {
    return new Promise(function (resolve, reject) {
      var socket;
      try { socket = new WebSocket(url); } catch (e) { reject(new Error("no-layer")); return; }
      var timer = setTimeout(function () { socket.close(); reject(new Error("no-layer")); }, 10000);
      socket.onopen = function () { clearTimeout(timer); resolve(socket); };
      socket.onerror = function () { clearTimeout(timer); reject(new Error("no-layer")); };
    });
  }

  function ask(socket, request) {
    return new Promise(function (resolve, reject) {
      socket.onmessage = function (event) {
        var answer;
        try { answer = JSON.parse(event.data); } catch (e) { reject(new Error("failed")); return; }
        if (answer.code === undefined && answer.result && answer.result.version) { return; }  // the greeting
        if (String(answer.code) === "200" && typeof answer.responseObject === "string") {
          resolve(answer.responseObject);
        } else if (answer.message === "action.canceled") {
          reject(new Error("canceled"));
        } else {
          var failure = new Error("failed");
          failure.detail = answer.message || "";
          reject(failure);
        }
      };
      socket.onclose = function () { reject(new Error("no-layer")); };
      socket.send(JSON.stringify(request));
    });
  }

  function signAll(socket) {
    var signatures = [];
    return documents.reduce(function (previous, base64) {
      return previous.then(function () {
        return ask(socket, {
          module: "kz.gov.pki.knca.commonUtils",
          method: "createCAdESFromBase64",
          // The operator's login challenge is signed attached with a login key (the form says so); documents
          // are signed detached with a signing key.
          args: ["PKCS12", form.dataset.keyType || "SIGNATURE", base64, form.dataset.attached === "true"]
        }).then(function (cms) { signatures.push(cms); });
      });
    }, Promise.resolve()).then(function () { return signatures; });
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    say("connecting");
    connect(form.dataset.url).then(function (socket) {
      say("signing");
      return signAll(socket).then(function (signatures) {
        socket.onclose = null;
        socket.close();
        return signatures;
      }, function (error) {
        socket.onclose = null;
        socket.close();
        throw error;
      });
    }).then(function (signatures) {
      form.querySelectorAll("input[name=cms]").forEach(function (old) { old.remove(); });
      signatures.forEach(function (cms) {
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = "cms";
        input.value = cms;
        form.appendChild(input);
      });
      say("sending");
      form.submit();
    }).catch(function (error) {
      var key = { "no-layer": "noLayer", "canceled": "canceled" }[error.message] || "failed";
      say(key, error.detail);
      button.disabled = false;
    });
  });
  button.disabled = false;  // ready: the page rendered it disabled until now
})();
