/*
 * Live status of a session's recordings (no reload needed).
 *
 * Opens ws(s)://<host>/ws/sessions/<id>/status/ (analysis/consumers.py): a snapshot of every
 * recording on connect, then one event per change. Each event updates the row's
 * data-status, status badge, <progress> and failure (the advice first, the technical reason
 * behind <details>), and the file's line in the upload list (its real state until done); when
 * a recording becomes done or failed the row is replaced by its server-rendered version
 * fetched from the row's data-row-url (the very row a reload shows),
 * and the session score panel is refreshed. A row's charts and metrics open on demand (a
 * <details> whose fragment is loaded on first opening). Reconnects with a growing delay. No
 * inline code: CSP script-src 'self'.
 */
(function () {
  "use strict";

  // Results on demand: the first opening of a row's <details data-results> loads its fragment.
  document.addEventListener(
    "toggle",
    function (event) {
      var details = event.target;
      if (
        !details.matches ||
        !details.matches("details[data-results]") ||
        !details.open ||
        details.hasAttribute("data-loaded")
      ) {
        return;
      }
      details.setAttribute("data-loaded", "loading");
      var body = details.querySelector("[data-results-body]");
      fetch(details.getAttribute("data-results-url"), {
        credentials: "same-origin",
        headers: { "X-Requested-With": "XMLHttpRequest" },
      })
        .then(function (response) {
          return response.ok ? response.text() : Promise.reject(new Error("HTTP " + response.status));
        })
        .then(function (html) {
          body.innerHTML = html;
          details.setAttribute("data-loaded", "");
        })
        .catch(function () {
          details.removeAttribute("data-loaded");
          body.textContent = "The results could not be loaded; open the recording's page instead.";
        });
    },
    true
  );

  var list = document.querySelector("[data-recording-list][data-ws-path]");
  if (!list || !("WebSocket" in window)) {
    return;
  }
  var LABELS = { pending: "Pending", processing: "Processing", done: "Done", failed: "Failed" };
  var UPLOAD_NOTES = {
    pending: "uploaded, analysis queued",
    processing: "analysing",
    done: "done: analysed",
    failed: "analysis failed",
  };
  var latest = {}; // recording id -> last event, for rows inserted after their event arrived
  var loading = {}; // recording id -> true while its done row is being fetched
  var retryMs = 1000;

  function rowFor(id) {
    return list.querySelector('[data-recording-id="' + id + '"]');
  }

  function refreshScore() {
    var panel = document.querySelector("[data-session-score][data-score-url]");
    if (!panel) {
      return;
    }
    fetch(panel.getAttribute("data-score-url"), {
      credentials: "same-origin",
      headers: { "X-Requested-With": "XMLHttpRequest" },
    })
      .then(function (response) {
        return response.ok ? response.text() : Promise.reject(new Error("HTTP " + response.status));
      })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html.trim();
        var fresh = holder.firstElementChild;
        var current = document.querySelector("[data-session-score]");
        if (fresh && current) {
          current.replaceWith(fresh);
        }
      })
      .catch(function () {
        // The score stays as it was until the next reload; the rows are what matter live.
      });
  }

  // Replace a finished (done or failed) row with its server-rendered version.
  function fetchDoneRow(row, id, status) {
    if (loading[id]) {
      return;
    }
    loading[id] = true;
    var url = row.getAttribute("data-row-url");
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "XMLHttpRequest" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var holder = document.createElement("ul");
        holder.innerHTML = html.trim();
        var fresh = holder.firstElementChild;
        var current = rowFor(id);
        if (fresh && current) {
          current.replaceWith(fresh);
        }
        refreshScore();
      })
      .catch(function () {
        // The status stays; the results or the advice are one click away on the recording page.
        row.setAttribute("data-status", status);
      })
      .finally(function () {
        loading[id] = false;
      });
  }

  function noteUpload(id, status, reason) {
    var item = document.querySelector('[data-upload-recording="' + id + '"]');
    if (!item) {
      return;
    }
    var note = item.querySelector(".upload-note");
    if (note) {
      note.textContent = (UPLOAD_NOTES[status] || status) + (reason ? ": " + reason : "");
    }
    item.setAttribute("data-upload-status", status);
  }

  function apply(event) {
    var id = String(event.recording);
    latest[id] = event;
    var row = rowFor(id);
    if (!row) {
      return;
    }
    var before = row.getAttribute("data-status");
    var status = event.status;
    var badge = row.querySelector("[data-status-badge]");
    if (badge) {
      badge.textContent = LABELS[status] || status;
      badge.className = "badge status-" + status;
    }
    var progress = row.querySelector("[data-progress]");
    if (progress && typeof event.progress === "number") {
      progress.value = event.progress;
      progress.textContent = Math.round(event.progress * 100) + " %";
    }
    // A failure: the advice first, the technical reason behind <details>, as after a reload.
    var failure = row.querySelector("[data-failure]");
    if (failure) {
      var reason = event.failure_reason || "";
      var advice = failure.querySelector("[data-failure-advice]");
      var detail = failure.querySelector("[data-failure-reason]");
      if (advice) {
        advice.textContent = reason ? event.failure_advice || "" : "";
      }
      if (detail) {
        detail.textContent = reason;
      }
      failure.hidden = !reason;
    }
    noteUpload(id, status, event.failure_reason ? event.failure_advice || event.failure_reason : "");
    if (status === "done") {
      // Ask for the finished row once per transition.
      if (before !== "done") {
        row.setAttribute("data-status", "processing");
        fetchDoneRow(row, id, "done");
      }
    } else {
      row.setAttribute("data-status", status);
      if (status === "failed" && before !== "failed") {
        fetchDoneRow(row, id, "failed"); // the very row a reload shows
      }
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + list.getAttribute("data-ws-path"));
    socket.addEventListener("open", function () {
      retryMs = 1000;
      list.setAttribute("data-live", "connected");
    });
    socket.addEventListener("message", function (message) {
      var data;
      try {
        data = JSON.parse(message.data);
      } catch (err) {
        return;
      }
      if (data.type === "snapshot" && Array.isArray(data.recordings)) {
        data.recordings.forEach(function (event) {
          var row = rowFor(event.recording);
          // A done row already showing its results needs nothing.
          if (!(row && event.status === "done" && row.getAttribute("data-status") === "done")) {
            apply(event);
          }
        });
      } else if (data.type === "status") {
        apply(data);
      }
    });
    socket.addEventListener("close", function (event) {
      list.setAttribute("data-live", "disconnected");
      if (event.code === 4401 || event.code === 4404) {
        return; // signed out or no access: retrying will not help
      }
      window.setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 30000);
    });
  }

  // upload.js announces rows it inserts; replay any event that arrived before the row.
  document.addEventListener("recording:added", function (event) {
    var id = String(event.detail.id);
    var empty = list.querySelector("[data-empty]");
    if (empty) {
      empty.remove();
    }
    if (latest[id]) {
      apply(latest[id]);
    }
  });

  connect();
})();
