// Polls only while the page is seen: a hidden tab (a phone gone to another app, a tab in
// the background) skips its polls, and polls at once when it is seen again (the
// elements' visibilitychange trigger). Done here, not with hx-trigger filters: htmx runs
// those as code, which the Content-Security-Policy does not allow.
document.addEventListener("htmx:beforeRequest", function (event) {
  "use strict";
  if (event.detail.elt.hasAttribute("data-poll") && document.visibilityState !== "visible") {
    event.preventDefault();
  }
});

// A poll that brings a new stage replaces the whole status section, which would close
// every fold the reader opened in it (a stage's log). Folds with an id are opened again
// in the new section; the cancel confirmation needs no help (hx-preserve keeps it).
(function () {
  "use strict";
  var opened = [];
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    opened = target ? Array.prototype.map.call(
      target.querySelectorAll("details[id][open]:not([hx-preserve])"),
      function (details) { return details.id; }
    ) : [];
  });
  document.addEventListener("htmx:afterSwap", function () {
    opened.forEach(function (id) {
      var details = document.getElementById(id);
      if (details && details.tagName === "DETAILS") details.open = true;
    });
    opened = [];
  });
})();
