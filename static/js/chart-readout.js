/*
 * Hover read-out of the result charts (server-side SVG from reports/chart_*.py).
 *
 * Under the pointer, an envelope chart reads out the time, the envelope's value, its % MVC
 * (when the chart knows the MVC) and, over a contraction, its number and grade; a trend chart
 * reads out the nearest session's date and each series' value. A cursor line marks the place.
 * The charts carry what this needs as data attributes (data-plot, data-x-domain, data-y-domain,
 * data-unit, data-mvc; data-start/-end/-grade on each contraction, data-series/-x/-value on each
 * trend point), so nothing is fetched. Keyboard: each chart is focusable; the arrow keys move the
 * cursor (Shift: ten times further), Home and End go to the ends, Escape hides it. Charts added
 * later (results opened on demand) are picked up too. No inline code or style: CSP script-src
 * 'self' with a nonce; the read-out line is a <p class="chart-readout"> after the chart.
 */
(function () {
  "use strict";

  var SVG_NS = "http://www.w3.org/2000/svg";
  var HINT = "Point at the chart, or focus it and use the arrow keys, to read a value.";
  var states = new WeakMap();

  function numbers(text) {
    return (text || "").trim().split(/\s+/).map(Number);
  }

  function formatValue(v) {
    return Math.abs(v) >= 10 ? String(Math.round(v)) : String(Math.round(v * 10) / 10);
  }

  function state(svg) {
    var s = states.get(svg);
    if (s) {
      return s;
    }
    var plot = numbers(svg.getAttribute("data-plot"));
    s = {
      kind: svg.getAttribute("data-readout"),
      left: plot[0],
      top: plot[1],
      width: plot[2],
      height: plot[3],
      x: null,
    };
    var y = numbers(svg.getAttribute("data-y-domain"));
    s.yLo = y[0];
    s.yHi = y[1];
    if (s.kind === "envelope") {
      var xd = numbers(svg.getAttribute("data-x-domain"));
      s.tLo = xd[0];
      s.tHi = xd[1];
      s.unit = svg.getAttribute("data-unit") || "";
      s.mvc = Number(svg.getAttribute("data-mvc")) || null;
      var line = svg.querySelector("polyline.envelope");
      s.xs = [];
      s.ys = [];
      if (line) {
        line
          .getAttribute("points")
          .trim()
          .split(/\s+/)
          .forEach(function (pair) {
            var p = pair.split(",");
            s.xs.push(Number(p[0]));
            s.ys.push(Number(p[1]));
          });
      }
      s.bands = Array.prototype.map.call(svg.querySelectorAll("rect.band"), function (rect) {
        return {
          number: rect.getAttribute("data-number"),
          start: Number(rect.getAttribute("data-start")),
          end: Number(rect.getAttribute("data-end")),
          grade: rect.getAttribute("data-grade"),
        };
      });
    } else {
      // Trend: the sessions' x positions, each with its points.
      var byX = {};
      Array.prototype.forEach.call(svg.querySelectorAll("circle[data-series]"), function (c) {
        var cx = c.getAttribute("cx");
        (byX[cx] = byX[cx] || []).push(c);
      });
      s.columns = Object.keys(byX)
        .map(function (cx) {
          return { x: Number(cx), points: byX[cx] };
        })
        .sort(function (a, b) {
          return a.x - b.x;
        });
    }
    var cursor = document.createElementNS(SVG_NS, "line");
    cursor.setAttribute("class", "chart-cursor");
    cursor.setAttribute("y1", String(s.top));
    cursor.setAttribute("y2", String(s.top + s.height));
    cursor.setAttribute("stroke", "#0b5cad");
    cursor.setAttribute("stroke-width", "1.5");
    cursor.setAttribute("pointer-events", "none");
    cursor.setAttribute("visibility", "hidden");
    var dot = document.createElementNS(SVG_NS, "circle");
    dot.setAttribute("class", "chart-cursor-dot");
    dot.setAttribute("r", "4");
    dot.setAttribute("fill", "#0b5cad");
    dot.setAttribute("pointer-events", "none");
    dot.setAttribute("visibility", "hidden");
    svg.appendChild(cursor);
    svg.appendChild(dot);
    s.cursor = cursor;
    s.dot = dot;
    s.output = readout(svg);
    states.set(svg, s);
    return s;
  }

  function readout(svg) {
    var next = svg.nextElementSibling;
    if (next && next.classList.contains("chart-readout")) {
      return next;
    }
    var p = document.createElement("p");
    p.className = "chart-readout";
    p.setAttribute("data-chart-readout", "");
    p.setAttribute("aria-live", "polite");
    p.textContent = HINT;
    svg.insertAdjacentElement("afterend", p);
    return p;
  }

  function enhance(root) {
    if (!root.querySelectorAll) {
      return;
    }
    var charts = root.matches && root.matches("svg.chart[data-readout]") ? [root] : [];
    charts = charts.concat(Array.prototype.slice.call(root.querySelectorAll("svg.chart[data-readout]")));
    charts.forEach(function (svg) {
      if (!svg.hasAttribute("tabindex")) {
        svg.setAttribute("tabindex", "0");
        state(svg);
      }
    });
  }

  // The value of the drawn envelope at plot x (linear between the drawn points).
  function envelopeY(s, x) {
    var xs = s.xs;
    if (!xs.length) {
      return null;
    }
    var lo = 0;
    var hi = xs.length - 1;
    if (x <= xs[0]) {
      return s.ys[0];
    }
    if (x >= xs[hi]) {
      return s.ys[hi];
    }
    while (hi - lo > 1) {
      var mid = (lo + hi) >> 1;
      if (xs[mid] < x) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    var span = xs[hi] - xs[lo];
    var f = span > 0 ? (x - xs[lo]) / span : 1;
    return s.ys[lo] + f * (s.ys[hi] - s.ys[lo]);
  }

  function clampX(s, x) {
    return Math.min(Math.max(x, s.left), s.left + s.width);
  }

  function show(svg, x) {
    var s = state(svg);
    x = clampX(s, x);
    var text;
    var dotY = null;
    if (s.kind === "envelope") {
      var t = s.tLo + ((x - s.left) / s.width) * (s.tHi - s.tLo);
      var y = envelopeY(s, x);
      var parts = [t.toFixed(1) + " s"];
      if (y !== null) {
        var value = s.yHi - ((y - s.top) / s.height) * (s.yHi - s.yLo);
        parts.push(formatValue(value) + " " + s.unit);
        if (s.mvc) {
          parts.push(Math.round((100 * value) / s.mvc) + " % MVC");
        }
        dotY = y;
      }
      var band = null;
      s.bands.forEach(function (b) {
        if (t >= b.start && t <= b.end) {
          band = b;
        }
      });
      parts.push(band ? "contraction " + band.number + ": " + band.grade : "no contraction");
      text = parts.join(" · ");
    } else {
      if (!s.columns.length) {
        return;
      }
      var best = s.columns[0];
      s.columns.forEach(function (c) {
        if (Math.abs(c.x - x) < Math.abs(best.x - x)) {
          best = c;
        }
      });
      x = best.x;
      text =
        best.points[0].getAttribute("data-x") +
        " · " +
        best.points
          .map(function (c) {
            return c.getAttribute("data-series") + " " + c.getAttribute("data-value");
          })
          .join(" · ");
      dotY = best.points.length === 1 ? Number(best.points[0].getAttribute("cy")) : null;
    }
    s.x = x;
    s.cursor.setAttribute("x1", String(x));
    s.cursor.setAttribute("x2", String(x));
    s.cursor.setAttribute("visibility", "visible");
    if (dotY !== null) {
      s.dot.setAttribute("cx", String(x));
      s.dot.setAttribute("cy", String(dotY));
      s.dot.setAttribute("visibility", "visible");
    } else {
      s.dot.setAttribute("visibility", "hidden");
    }
    s.output.textContent = text;
    s.output.setAttribute("data-active", "");
  }

  function hide(svg) {
    var s = states.get(svg);
    if (!s) {
      return;
    }
    s.cursor.setAttribute("visibility", "hidden");
    s.dot.setAttribute("visibility", "hidden");
    s.output.textContent = HINT;
    s.output.removeAttribute("data-active");
  }

  function chartOf(node) {
    return node && node.closest ? node.closest("svg.chart[data-readout]") : null;
  }

  document.addEventListener("mousemove", function (event) {
    var svg = chartOf(event.target);
    if (!svg || !svg.getScreenCTM()) {
      return;
    }
    var point = svg.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    show(svg, point.matrixTransform(svg.getScreenCTM().inverse()).x);
  });

  document.addEventListener("mouseout", function (event) {
    var svg = chartOf(event.target);
    if (svg && !svg.contains(event.relatedTarget) && document.activeElement !== svg) {
      hide(svg);
    }
  });

  document.addEventListener("focusin", function (event) {
    var svg = chartOf(event.target);
    if (svg) {
      var s = state(svg);
      show(svg, s.x === null ? s.left : s.x);
    }
  });

  document.addEventListener("focusout", function (event) {
    var svg = chartOf(event.target);
    if (svg) {
      hide(svg);
    }
  });

  document.addEventListener("keydown", function (event) {
    var svg = chartOf(event.target);
    if (!svg || event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    var s = state(svg);
    var x = s.x === null ? s.left : s.x;
    var step = s.width / 100;
    if (s.kind === "trend" && s.columns.length) {
      var i = 0;
      s.columns.forEach(function (c, k) {
        if (Math.abs(c.x - x) < Math.abs(s.columns[i].x - x)) {
          i = k;
        }
      });
      var move = event.shiftKey ? 5 : 1;
      var next = { ArrowLeft: i - move, ArrowRight: i + move, Home: 0, End: s.columns.length - 1 }[event.key];
      if (next === undefined) {
        if (event.key === "Escape") {
          hide(svg);
        }
        return;
      }
      event.preventDefault();
      show(svg, s.columns[Math.min(Math.max(next, 0), s.columns.length - 1)].x);
      return;
    }
    var targets = {
      ArrowLeft: x - step * (event.shiftKey ? 10 : 1),
      ArrowRight: x + step * (event.shiftKey ? 10 : 1),
      Home: s.left,
      End: s.left + s.width,
    };
    if (event.key in targets) {
      event.preventDefault();
      show(svg, targets[event.key]);
    } else if (event.key === "Escape") {
      hide(svg);
    }
  });

  enhance(document);
  if ("MutationObserver" in window) {
    new MutationObserver(function (mutations) {
      mutations.forEach(function (m) {
        Array.prototype.forEach.call(m.addedNodes, function (node) {
          if (node.nodeType === 1) {
            enhance(node);
          }
        });
      });
    }).observe(document.body, { childList: true, subtree: true });
  }
})();
