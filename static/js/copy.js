// Copy buttons: <button type="button" class="copy" data-copy-target="#some-id" hidden>Copy</button>
// copies the text of the element the selector names (its rendered text, as the reader
// sees it: line breaks kept, markup gone). The buttons are written `hidden` and shown here,
// so a browser without JavaScript shows no button that does nothing. One listener on the
// document serves buttons that a poll or a fold brings in later. A static file, because
// the Content-Security-Policy forbids inline scripts.
(function () {
  "use strict";

  function reveal(root) {
    root.querySelectorAll("button[data-copy-target][hidden]").forEach(function (button) {
      button.hidden = false;
      button.setAttribute("aria-live", "polite");
    });
  }

  // Said to screen readers too: the button's label changes for a moment.
  function confirm(button, text) {
    var label = button.dataset.copyLabel || button.textContent;
    button.dataset.copyLabel = label;
    button.textContent = text;
    clearTimeout(button._copyTimer);
    button._copyTimer = setTimeout(function () {
      button.textContent = label;
    }, 2000);
  }

  // Without the clipboard API (a page served over plain http from another host): the
  // old way, through a selection.
  function copyBySelection(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    var done = false;
    try {
      done = document.execCommand("copy");
    } catch (error) {
      done = false;
    }
    area.remove();
    return done ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        return copyBySelection(text);
      });
    }
    return copyBySelection(text);
  }

  // The text as shown, without the labels of buttons inside it (a summary holding quotes
  // with their own Copy buttons). innerText needs a rendered element: the copy is put
  // on the page, out of sight, for the moment it is read.
  function readableText(target) {
    // A <pre> (the semantic model's YAML) is copied whole, as downloaded: its spaces
    // and its last line break are part of it.
    if (target.tagName === "PRE") return target.innerText;
    if (!target.querySelector("button")) return (target.innerText || target.textContent).trim();
    var copy = target.cloneNode(true);
    copy.querySelectorAll("button").forEach(function (button) { button.remove(); });
    copy.removeAttribute("id");
    copy.querySelectorAll("[id]").forEach(function (element) { element.removeAttribute("id"); });
    var holder = document.createElement("div");
    holder.className = "visually-hidden";
    holder.setAttribute("aria-hidden", "true");
    holder.appendChild(copy);
    document.body.appendChild(holder);
    var text = (copy.innerText || copy.textContent).trim();
    holder.remove();
    return text;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy-target]");
    if (!button) return;
    var target = document.querySelector(button.dataset.copyTarget);
    if (!target) return;
    var text = readableText(target);
    copy(text).then(
      function () { confirm(button, "Copied"); },
      function () { confirm(button, "Copy failed"); }
    );
  });

  document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  document.addEventListener("htmx:afterSwap", function (event) { reveal(event.target); });
  if (document.readyState !== "loading") reveal(document);
})();
