// The admin's accessibility layer (issue 16), for markup Django's admin widgets build themselves:
// - the filter_horizontal widget's help icons carry aria-label on a plain span (axe:
//   aria-prohibited-attr): they become images with that label;
// - a split date/time field's two inputs share one label (axe: label): each gets its own name,
//   "<field> (date)" and "<field> (time)";
// - a tabular inline's first and last header cells are empty (axe: empty-table-header): they
//   get a name for screen readers only.
// It runs after the admin's own widgets, which build themselves on window load.
(function () {
  "use strict";

  function fieldName(input) {
    const row = input.closest(".form-row, .fieldBox, td");
    const label = row && row.querySelector("label");
    if (label) return label.textContent.replace(/:\s*$/, "").trim();
    return input.name.replace(/_\d$/, "").replace(/[-_]/g, " ");
  }

  function mend() {
    document.querySelectorAll(".help-tooltip[aria-label]").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
    document.querySelectorAll("p.datetime input").forEach(function (input) {
      if (input.labels && input.labels.length) return;
      const part = /_1$/.test(input.id) ? "time" : "date";
      input.setAttribute("aria-label", fieldName(input) + " (" + part + ")");
    });
    document.querySelectorAll("thead th").forEach(function (cell) {
      if (cell.textContent.trim()) return;
      const span = document.createElement("span");
      span.className = "visually-hidden";
      span.textContent = cell.classList.contains("original") ? "Saved row" : "Actions";
      cell.appendChild(span);
    });
  }

  if (document.readyState === "complete") {
    mend();
  } else {
    window.addEventListener("load", function () { window.setTimeout(mend, 0); });
  }
})();
