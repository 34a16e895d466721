/*
 * A small scrolling chart on a <canvas> for the live page (no library, no CDN).
 *
 * LiveChart(canvas, {windowS}) keeps the last windowS seconds of two series - the decimated
 * signal (drawn as a faint band of |value|) and the envelope (a thick line) - plus
 * horizontal lines (threshold, MVC target). draw(now) is called every animation frame with
 * the stream time to show at the right edge, so the chart scrolls smoothly between frames.
 * A gap (frames a slow connection dropped) breaks the line instead of joining across it.
 */
(function () {
  "use strict";

  function LiveChart(canvas, options) {
    this.canvas = canvas;
    this.windowS = (options && options.windowS) || 10;
    this.signal = []; // [t, v] or null (a break)
    this.envelope = [];
    this.lines = {}; // name -> {value, colour, label}
    this.peak = 1e-6;
  }

  LiveChart.prototype.addSignal = function (t0, hz, values) {
    for (var i = 0; i < values.length; i++) {
      this.signal.push([t0 + i / hz, Math.abs(values[i])]);
    }
  };

  LiveChart.prototype.addEnvelope = function (points) {
    for (var i = 0; i < points.length; i++) {
      this.envelope.push(points[i]);
      if (points[i][1] > this.peak) {
        this.peak = points[i][1];
      }
    }
  };

  LiveChart.prototype.gap = function () {
    this.signal.push(null);
    this.envelope.push(null);
  };

  LiveChart.prototype.setLine = function (name, value, colour, label) {
    if (value === null || value === undefined) {
      delete this.lines[name];
    } else {
      this.lines[name] = { value: value, colour: colour, label: label };
    }
  };

  function trim(series, from) {
    var k = 0;
    while (k < series.length && (series[k] === null || series[k][0] < from)) {
      k++;
    }
    if (k > 0) {
      series.splice(0, k);
    }
  }

  LiveChart.prototype.draw = function (now) {
    var canvas = this.canvas;
    var ratio = window.devicePixelRatio || 1;
    var w = canvas.clientWidth, h = canvas.clientHeight;
    if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
      canvas.width = Math.round(w * ratio);
      canvas.height = Math.round(h * ratio);
    }
    var ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    var from = now - this.windowS;
    trim(this.signal, from - 1);
    trim(this.envelope, from - 1);
    var top = this.peak;
    for (var name in this.lines) {
      top = Math.max(top, this.lines[name].value);
    }
    top *= 1.2;
    function x(t) { return ((t - from) / (now - from)) * w; }
    function y(v) { return h - 4 - (Math.min(v, top) / top) * (h - 8); }

    ctx.strokeStyle = "rgba(60, 90, 160, 0.25)";
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (var i = 0; i < this.signal.length; i++) {
      var p = this.signal[i];
      if (p === null || p[0] > now) {
        continue;
      }
      ctx.moveTo(x(p[0]), h - 4);
      ctx.lineTo(x(p[0]), y(p[1]));
    }
    ctx.stroke();

    ctx.strokeStyle = "#1f4fa8";
    ctx.lineWidth = 2.5;
    ctx.beginPath();
    var pen = false;
    for (var j = 0; j < this.envelope.length; j++) {
      var q = this.envelope[j];
      if (q === null) {
        pen = false;
        continue;
      }
      if (q[0] > now) {
        break;
      }
      if (pen) {
        ctx.lineTo(x(q[0]), y(q[1]));
      } else {
        ctx.moveTo(x(q[0]), y(q[1]));
        pen = true;
      }
    }
    ctx.stroke();

    ctx.font = "12px sans-serif";
    for (var key in this.lines) {
      var line = this.lines[key];
      ctx.strokeStyle = line.colour;
      ctx.fillStyle = line.colour;
      ctx.lineWidth = 1.5;
      ctx.setLineDash([6, 4]);
      ctx.beginPath();
      ctx.moveTo(0, y(line.value));
      ctx.lineTo(w, y(line.value));
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillText(line.label, 4, y(line.value) - 3);
    }
  };

  window.LiveChart = LiveChart;
})();
