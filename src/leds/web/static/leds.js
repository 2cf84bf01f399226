// leds: small progressive enhancements. Every page works without JavaScript.
(function () {
  "use strict";
  var csrf = document.body && document.body.getAttribute("data-csrf");
  document.addEventListener("htmx:configRequest", function (ev) {
    if (csrf) { ev.detail.headers["X-CSRF-Token"] = csrf; }
  });
  if (window.htmx) {
    // Show refusals and errors in place (htmx ignores 4xx/5xx bodies by default).
    window.htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "[45]..", swap: true, error: true }
    ];
  }
  // Keyboard: "/" jumps to the first field of the page's main form.
  document.addEventListener("keydown", function (ev) {
    var t = ev.target;
    var typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT");
    if (ev.key === "/" && !typing) {
      var field = document.querySelector("main form input:not([type=hidden]), main form select");
      if (field) { ev.preventDefault(); field.focus(); }
    }
  });
})();
