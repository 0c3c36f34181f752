// lianban web front: small enhancements on top of htmx (no inline script: the CSP forbids it).
(function () {
  "use strict";

  function flash(text) {
    var area = document.getElementById("flash");
    if (!area) return;
    var p = document.createElement("p");
    p.className = "flash flash-error";
    p.textContent = text;
    area.replaceChildren(p);
  }

  // A request that failed outright (server error, network down): say so instead of doing nothing.
  document.addEventListener("htmx:responseError", function () {
    flash(document.body.dataset.msgServerError || "Server error");
  });
  document.addEventListener("htmx:sendError", function () {
    flash(document.body.dataset.msgNetworkError || "Network error");
  });
})();
