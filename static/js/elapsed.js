// Elapsed times that count on by themselves, from the server's timestamps: every element
// with data-since (and no data-until) shows the time since then, as the server writes it
// ("45 s", "3 min 07 s", "1 h 02 min"). The browser's clock is set against the server's
// once, from the time the page was made, so a wrong clock on the phone does not matter.
(function () {
  "use strict";
  var script = document.currentScript;
  // Unix seconds, as the server writes them.
  var offset = Number(script.dataset.serverNow) * 1000 - Date.now();

  function format(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) return seconds + " s";
    var minutes = Math.floor(seconds / 60);
    seconds = seconds % 60;
    if (minutes < 60) return minutes + " min " + String(seconds).padStart(2, "0") + " s";
    return Math.floor(minutes / 60) + " h " + String(minutes % 60).padStart(2, "0") + " min";
  }

  function tick() {
    var now = Date.now() + offset;
    document.querySelectorAll("[data-since]:not([data-until])").forEach(function (element) {
      element.textContent = format(now / 1000 - Number(element.dataset.since));
    });
  }

  if (!isNaN(offset)) {
    setInterval(tick, 1000);
    document.addEventListener("htmx:afterSwap", tick);
  }
})();
