// The semantic model's Copy button: copies the YAML shown beside it. The button stays
// hidden without JavaScript (the Download link works either way). One listener on the
// document, so a result swapped in by a poll needs nothing more.
(function () {
  "use strict";
  if (window.semanticModelCopy) return;
  window.semanticModelCopy = true;

  function reveal() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.hidden = !navigator.clipboard;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.dataset.copy);
    var status = button.parentElement.querySelector("[data-copy-status]");
    navigator.clipboard.writeText(source ? source.textContent : "").then(
      function () { if (status) status.textContent = "Copied."; },
      function () { if (status) status.textContent = "Could not copy: select the text instead."; }
    );
  });
  document.addEventListener("htmx:afterSwap", reveal);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", reveal);
  else reveal();
})();
