// Copy buttons: <button type="button" data-copy-target="ID" hidden>Copy</button> copies
// the text of the element with that id. The button starts hidden and is shown here, so
// without JavaScript no button promises what it cannot do (the text can be selected by
// hand). Where the Clipboard API is refused (a page not served over HTTPS or localhost),
// the text is selected for Ctrl+C / Cmd+C instead, and the button says so.
(function () {
  "use strict";
  if (window.copyButtonsReady) {
    return; // loaded twice (by a page and by its base): one listener is enough
  }
  window.copyButtonsReady = true;

  function say(button, text) {
    var label = button.dataset.copyLabel || button.textContent;
    button.dataset.copyLabel = label;
    button.textContent = text;
    window.setTimeout(function () { button.textContent = label; }, 2000);
  }

  function select(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function show() {
    document.querySelectorAll("button[data-copy-target]").forEach(function (button) {
      button.hidden = false;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy-target]");
    if (!button) {
      return;
    }
    var source = document.getElementById(button.dataset.copyTarget);
    if (!source) {
      return;
    }
    var text = source.textContent.trim();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { say(button, "Copied"); },
        function () { select(source); say(button, "Press Ctrl+C to copy"); }
      );
    } else {
      select(source);
      say(button, "Press Ctrl+C to copy");
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", show);
  } else {
    show();
  }
  // Buttons brought in later by htmx swaps.
  document.addEventListener("htmx:afterSettle", show);
})();
