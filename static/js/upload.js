/*
 * Progressive enhancement of the session page's upload form (which works without JavaScript).
 *
 * Adds a drag-and-drop zone and sends each file in its own XMLHttpRequest so that every file
 * gets a progress bar while it uploads; the server answers JSON (accepted rows, refused files
 * with the reason). Accepted rows are inserted into the recording list, where
 * session-status.js keeps them (and the file's line here) up to date. No inline code: CSP script-src 'self'.
 */
(function () {
  "use strict";

  var form = document.querySelector("[data-upload-form]");
  if (!form || !window.FormData || !window.XMLHttpRequest) {
    return;
  }
  var input = form.querySelector('input[type="file"]');
  var zone = form.querySelector("[data-dropzone]");
  var progressList = form.querySelector("[data-upload-list]");
  var recordingList = document.querySelector("[data-recording-list]");
  var token = form.querySelector('input[name="csrfmiddlewaretoken"]');

  function item(name) {
    var li = document.createElement("li");
    li.className = "upload-item";
    var label = document.createElement("span");
    label.className = "upload-name";
    label.textContent = name;
    var bar = document.createElement("progress");
    bar.max = 1;
    bar.value = 0;
    bar.setAttribute("aria-label", "Upload of " + name);
    var note = document.createElement("span");
    note.className = "upload-note";
    note.textContent = "uploading";
    li.appendChild(label);
    li.appendChild(bar);
    li.appendChild(note);
    progressList.appendChild(li);
    return { li: li, bar: bar, note: note };
  }

  function insertRow(html, id) {
    var holder = document.createElement("ul");
    holder.innerHTML = html.trim();
    var row = holder.firstElementChild;
    if (!row || !recordingList) {
      return;
    }
    if (!recordingList.querySelector('[data-recording-id="' + id + '"]')) {
      recordingList.appendChild(row);
    }
    document.dispatchEvent(new CustomEvent("recording:added", { detail: { id: id } }));
  }

  function send(file) {
    var ui = item(file.name);
    var data = new FormData();
    data.append("csrfmiddlewaretoken", token ? token.value : "");
    data.append("files", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) {
        ui.bar.value = event.loaded / event.total;
      }
    });
    xhr.addEventListener("load", function () {
      var body = xhr.response || {};
      ui.bar.value = 1;
      (body.accepted || []).forEach(function (rec) {
        ui.note.textContent = "uploaded, analysis queued";
        ui.li.classList.add("upload-ok");
        // session-status.js keeps this line at the file's real state until it is done.
        ui.li.setAttribute("data-upload-recording", String(rec.id));
        ui.li.setAttribute("data-upload-status", "pending");
        insertRow(rec.row_html, rec.id);
      });
      (body.refused || []).forEach(function (refusal) {
        ui.note.textContent = refusal.reason;
        ui.li.classList.add("upload-refused");
      });
      if (!body.accepted && !body.refused) {
        ui.note.textContent = "upload failed (HTTP " + xhr.status + ")";
        ui.li.classList.add("upload-refused");
      }
    });
    xhr.addEventListener("error", function () {
      ui.note.textContent = "upload failed: the connection was lost";
      ui.li.classList.add("upload-refused");
    });
    xhr.send(data);
  }

  function sendAll(files) {
    Array.prototype.forEach.call(files, send);
  }

  form.addEventListener("submit", function (event) {
    if (!input || !input.files.length) {
      return; // let the server answer with its message
    }
    event.preventDefault();
    sendAll(input.files);
    input.value = "";
  });

  if (input) {
    // Choosing files starts the upload at once; the button stays for the no-JS path.
    input.addEventListener("change", function () {
      if (input.files.length) {
        sendAll(input.files);
        input.value = "";
      }
    });
  }

  if (zone) {
    zone.classList.add("dropzone-active");
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.remove("dragging");
      });
    });
    zone.addEventListener("drop", function (event) {
      if (event.dataTransfer && event.dataTransfer.files.length) {
        sendAll(event.dataTransfer.files);
      }
    });
  }
})();
