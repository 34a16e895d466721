/*
 * Waits for a progress report that a worker renders (reports/views.py progress_report): polls
 * the status URL, then shows the download link. No inline code: CSP script-src 'self'.
 */
(function () {
  "use strict";
  var box = document.querySelector("[data-report-wait][data-status-url]");
  if (!box) {
    return;
  }
  var state = box.querySelector("[data-report-state]");
  var bar = box.querySelector("[data-report-progress]");
  var link = box.querySelector("[data-report-download]");
  var delay = 1000;

  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (data.state === "done") {
          state.textContent = "Ready.";
          bar.max = 1;
          bar.value = 1;
          link.hidden = false;
          return;
        }
        if (data.state === "failed") {
          state.textContent = "The report could not be prepared. Reload the page to try again.";
          bar.hidden = true;
          return;
        }
        state.textContent = "Preparing…";
        delay = Math.min(delay * 1.5, 5000);
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        window.setTimeout(poll, 5000);
      });
  }
  window.setTimeout(poll, delay);
})();
