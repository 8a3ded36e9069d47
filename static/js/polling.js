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
