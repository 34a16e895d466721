/*
 * The live page: opens ws(s)://<host>/ws/sessions/<id>/live/ (analysis/live_consumers.py).
 *
 * Messages: "state" (channels, thresholds, MVC target lines, counts, alerts, whether a device
 * is connected), "frame" (decimated signal, envelope, contraction events, counts, current
 * % MVC, new alerts; "gap" when frames were dropped for this viewer), "alert" (acknowledged),
 * "stopped". Frames are acknowledged every ACK_EVERY ({"type": "ack"}: "I have everything so
 * far"): the server sends at most a window ahead. Per muscle a LiveChart (live-chart.js), a counter against the target and the
 * current % MVC in large type. Reconnects with a growing delay. No inline code (CSP).
 */
(function () {
  "use strict";

  var board = document.querySelector("[data-live][data-ws-path]");
  if (!board || !("WebSocket" in window) || !window.LiveChart) {
    return;
  }
  var indicator = document.querySelector("[data-live-connection]");
  var alertList = document.querySelector("[data-live-alerts]");
  var noAlerts = document.querySelector("[data-live-no-alerts]");
  var mayAck = alertList && alertList.getAttribute("data-may-ack") === "1";
  var panels = {}; // label -> {chart, pct, count, el}
  var targetCount = 0;
  var streamT = 0; // stream time of the newest sample shown
  var arrivedAt = 0; // performance.now() when it arrived
  var rate = 1; // stream seconds per wall second (replays may run faster)
  var lastArrival = null;
  var retryMs = 1000;
  var socket = null;
  var ACK_EVERY = 10; // frames per acknowledgement (the server allows a window of 40)
  var unacked = 0;

  function setIndicator(state, text) {
    if (indicator) {
      indicator.setAttribute("data-state", state);
      indicator.textContent = text;
    }
  }

  function panelFor(label) {
    if (panels[label]) {
      return panels[label];
    }
    var empty = board.querySelector("[data-live-empty]");
    if (empty) {
      empty.hidden = true;
    }
    var el = document.createElement("article");
    el.className = "live-muscle";
    el.setAttribute("data-live-channel", label);
    var left = document.createElement("div");
    var title = document.createElement("h3");
    title.textContent = label;
    var canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", "Live envelope of " + label);
    left.appendChild(title);
    left.appendChild(canvas);
    var right = document.createElement("div");
    var pct = document.createElement("div");
    pct.className = "live-pct";
    pct.setAttribute("data-live-pct", "");
    pct.textContent = "–";
    var count = document.createElement("div");
    count.className = "live-count";
    count.setAttribute("data-live-count", "0");
    right.appendChild(pct);
    right.appendChild(count);
    el.appendChild(left);
    el.appendChild(right);
    board.appendChild(el);
    panels[label] = { chart: new window.LiveChart(canvas, { windowS: 10 }), pct: pct, count: count };
    return panels[label];
  }

  function showCount(label, c) {
    var p = panelFor(label);
    p.count.setAttribute("data-live-count", String(c.count));
    p.count.setAttribute("data-reached", targetCount && c.count >= targetCount ? "1" : "0");
    p.count.textContent = c.count + (targetCount ? " / " + targetCount : "") + " contractions (" + c.good + " good)";
  }

  function showAlert(alert) {
    if (!alertList) {
      return;
    }
    if (noAlerts) {
      noAlerts.hidden = true;
    }
    var li = alertList.querySelector('[data-alert-id="' + alert.id + '"]');
    if (!li) {
      li = document.createElement("li");
      li.setAttribute("data-alert-id", String(alert.id));
      alertList.insertBefore(li, alertList.firstChild);
    }
    li.setAttribute("data-severity", alert.severity);
    li.setAttribute("data-acknowledged", alert.acknowledged_by ? "1" : "0");
    li.textContent = "[" + alert.t.toFixed(1) + " s] " + alert.message + " ";
    if (alert.acknowledged_by) {
      var by = document.createElement("small");
      by.textContent = "acknowledged by " + alert.acknowledged_by;
      li.appendChild(by);
    } else if (mayAck) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button small";
      button.textContent = "Acknowledge";
      button.addEventListener("click", function () {
        if (socket && socket.readyState === 1) {
          socket.send(JSON.stringify({ type: "ack_alert", id: alert.id }));
        }
      });
      li.appendChild(button);
    }
  }

  function onState(m) {
    targetCount = m.target_count || 0;
    (m.channels || []).forEach(function (ch) {
      var p = panelFor(ch.label);
      p.chart.setLine("threshold", ch.threshold_v, "#888", "threshold");
      p.chart.setLine("target", ch.target_v, "#1b7f3a", "target " + (m.target_pct_mvc || "") + " % MVC");
      showCount(ch.label, ch);
    });
    (m.alerts || []).forEach(showAlert);
    if (m.stopped) {
      setIndicator("offline", "Stopped: the recording is being analysed");
    } else if (m.device) {
      setIndicator("streaming", "Device streaming");
    } else {
      setIndicator("waiting", "Connected; waiting for the device");
    }
  }

  function onFrame(m) {
    if (m.gap) {
      for (var g in panels) {
        panels[g].chart.gap();
      }
    }
    var hz = m.signal_hz;
    for (var label in m.signal) {
      panelFor(label).chart.addSignal(m.t0, hz, m.signal[label]);
    }
    for (var l2 in m.envelope) {
      panelFor(l2).chart.addEnvelope(m.envelope[l2]);
      var pts = m.envelope[l2];
      if (pts.length) {
        var t = pts[pts.length - 1][0];
        var now = performance.now();
        if (lastArrival !== null && t > streamT) {
          var wall = (now - lastArrival) / 1000;
          if (wall > 0) {
            rate = Math.max(0.5, Math.min(60, 0.8 * rate + 0.2 * ((t - streamT) / wall)));
          }
        }
        if (t > streamT) {
          streamT = t;
          arrivedAt = now;
          lastArrival = now;
        }
      }
    }
    for (var l3 in m.pct_mvc || {}) {
      var v = m.pct_mvc[l3];
      panelFor(l3).pct.innerHTML = "";
      panelFor(l3).pct.appendChild(document.createTextNode(v === null ? "–" : Math.round(v)));
      var small = document.createElement("small");
      small.textContent = " % MVC";
      panelFor(l3).pct.appendChild(small);
    }
    for (var l4 in m.counts || {}) {
      showCount(l4, m.counts[l4]);
    }
    (m.alerts || []).forEach(showAlert);
    setIndicator("streaming", "Device streaming");
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + board.getAttribute("data-ws-path"));
    socket.onopen = function () {
      retryMs = 1000;
      unacked = 0;
    };
    socket.onmessage = function (event) {
      var m;
      try {
        m = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      if (m.type === "state") {
        onState(m);
      } else if (m.type === "frame") {
        onFrame(m);
        unacked += 1;
        if (unacked >= ACK_EVERY) {
          socket.send('{"type":"ack"}');
          unacked = 0;
        }
      } else if (m.type === "alert") {
        showAlert(m.alert);
      } else if (m.type === "stopped") {
        setIndicator("offline", m.recording ? "Stopped: the recording is being analysed" : "Stopped");
      }
    };
    socket.onclose = function (event) {
      if (event.code === 4401) {
        setIndicator("offline", "Signed out: sign in again to watch");
        return;
      }
      if (event.code === 4404) {
        setIndicator("offline", "Not allowed to watch this session");
        return;
      }
      setIndicator("offline", "Connection lost; reconnecting…");
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 15000);
    };
  }

  function animate() {
    var shown = streamT + Math.min(0.25, ((performance.now() - arrivedAt) / 1000) * rate);
    for (var label in panels) {
      panels[label].chart.draw(shown);
    }
    window.requestAnimationFrame(animate);
  }

  connect();
  window.requestAnimationFrame(animate);
})();
