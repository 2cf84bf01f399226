// leds: the face search upload's drop zone and quality check. Without this script the file
// input and the "Check quality" button (which posts the form to /faces/quality) still work.
// A photo dropped on the zone goes into the file input; choosing or dropping one, or pressing
// "Check quality", asks /faces/quality (with the session and its CSRF token) and shows the
// answer (server-rendered, escaped HTML) above the search button.
(function () {
  "use strict";

  function setup() {
    var form = document.getElementById("face-form");
    var zone = document.getElementById("drop-zone");
    var input = document.getElementById("image");
    var button = document.getElementById("check-quality");
    var out = document.getElementById("quality");
    if (!form || !zone || !input || !button || !out) { return; }
    var csrf = document.body.getAttribute("data-csrf") || "";
    var asked = 0;

    function say(text, kind) {
      var box = document.createElement("div");
      box.className = "state " + (kind || "error");
      box.setAttribute("role", "status");
      box.textContent = text;
      out.replaceChildren(box);
    }

    function check() {
      var file = input.files && input.files[0];
      if (!file) { say("Choose or drop a photo first."); input.focus(); return; }
      var mine = ++asked;
      var body = new FormData();
      body.append("image", file);
      body.append("csrf_token", csrf);
      say("Checking the photo's quality…", "pending");
      out.setAttribute("aria-busy", "true");
      fetch("/faces/quality", {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "HX-Request": "true", "X-CSRF-Token": csrf }
      }).then(function (response) {
        return response.text();
      }).then(function (html) {
        if (mine !== asked) { return; }
        out.innerHTML = html;  // the server's template output: every value is escaped
      }).catch(function () {
        if (mine === asked) { say("The quality check could not be reached; you can still search."); }
      }).then(function () {
        if (mine === asked) { out.removeAttribute("aria-busy"); }
      });
    }

    button.addEventListener("click", function (ev) {
      ev.preventDefault();
      check();
    });
    input.addEventListener("change", function () {
      if (input.files && input.files.length) { check(); } else { out.replaceChildren(); }
    });

    function over(ev) {
      if (!ev.dataTransfer || Array.prototype.indexOf.call(ev.dataTransfer.types, "Files") < 0) { return; }
      ev.preventDefault();
      ev.dataTransfer.dropEffect = "copy";
      zone.classList.add("dragover");
    }
    zone.addEventListener("dragenter", over);
    zone.addEventListener("dragover", over);
    zone.addEventListener("dragleave", function () { zone.classList.remove("dragover"); });
    zone.addEventListener("drop", function (ev) {
      zone.classList.remove("dragover");
      if (!ev.dataTransfer || !ev.dataTransfer.files || !ev.dataTransfer.files.length) { return; }
      ev.preventDefault();
      var files = new DataTransfer();
      files.items.add(ev.dataTransfer.files[0]);
      input.files = files.files;
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
