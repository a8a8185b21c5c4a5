// tolok's pages work without this file; it adds what helps: the theme switch, filters that
// apply themselves, live updates of the board, and the charts (Plotly, figures built by tolok).
"use strict";
// What the builder's scripts (build-*.js) share: a JSON request with the session's CSRF token,
// and a located problem of the API in words.
window.tolok = {
  send: function (method, url, body, csrf) {
    var headers = { "Content-Type": "application/json", "Accept": "application/json" };
    if (csrf) headers["X-CSRF-Token"] = csrf;
    return fetch(url, { method: method, headers: headers, credentials: "same-origin",
                        body: JSON.stringify(body) })
      .then(function (answer) {
        return answer.json().catch(function () { return {}; })
          .then(function (json) { return { status: answer.status, json: json }; });
      });
  },
  // `TLK011 unknown name … hint`, and its file and line when no field shows it.
  problemText: function (problem, placed) {
    return (problem.code ? problem.code + " " : "") + problem.message
      + (problem.hint ? " " + problem.hint : "")
      + (problem.line && !placed ? " (" + problem.file + ":" + problem.line + ")" : "");
  }
};
(function () {
  var root = document.documentElement;
  // Loaded in <head> without `defer`: the theme chosen before is set before the page is drawn.
  // An embed's theme is the one its address asks for (`?theme=`: `data-theme-fixed`).
  try {
    var chosen = localStorage.getItem("tolok-theme");
    if (chosen && !root.hasAttribute("data-theme-fixed")) root.dataset.theme = chosen;
  } catch (e) {}
  document.addEventListener("DOMContentLoaded", function () {
    themeSwitch();
    copyButtons();
    document.querySelectorAll("[data-autosubmit]").forEach(function (field) {
      field.addEventListener("change", function () { field.form.submit(); });
    });
    live();
    charts();
    // The page (a chart's server-drawn picture in it) is on screen once the next frame is
    // drawn: the mark "tolok:painted" says when (bench/page_load.py reads it).
    requestAnimationFrame(function () { setTimeout(function () { performance.mark("tolok:painted"); }); });
  });

  // The theme switch goes light, dark, auto (as the system says), light again; the button says
  // which one is on in its label (`data-light`, `data-dark`, `data-auto`: the page's words).
  function themeSwitch() {
    var button = document.getElementById("theme");
    if (!button) return;
    var next = { light: "dark", dark: "auto", auto: "light" };
    var mark = { light: "\u2600", dark: "\u263E", auto: "\u25D0" };
    var show = function () {
      var now = next[root.dataset.theme] ? root.dataset.theme : "auto";
      var words = button.getAttribute("data-" + now) || now;
      button.textContent = mark[now];
      button.setAttribute("aria-label", words);
      button.title = words;
    };
    show();
    button.addEventListener("click", function () {
      root.dataset.theme = next[root.dataset.theme] || "light";
      try { localStorage.setItem("tolok-theme", root.dataset.theme); } catch (e) {}
      show();
      document.dispatchEvent(new Event("tolok:theme"));
    });
  }

  // A button `data-copy="ID"` copies the field ID's text (a share link) and says so.
  function copyButtons() {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var field = document.getElementById(button.dataset.copy);
        if (!field) return;
        var said = function () { button.textContent = button.dataset.copied || button.textContent; };
        var fallback = function () { field.select(); document.execCommand("copy"); said(); };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(field.value).then(said, fallback);
        } else {
          fallback();
        }
      });
    });
  }

  // The board follows refreshes: the server says when one finished, the cards are fetched again.
  function live() {
    var marker = document.querySelector("[data-events]");
    var cards = document.getElementById("cards");
    if (!marker || !cards || !window.EventSource) return;
    var source = new EventSource(marker.dataset.events);
    source.addEventListener("refresh", function () {
      fetch(location.href, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
        .then(function (answer) { return answer.ok ? answer.text() : null; })
        .then(function (html) {
          if (!html) return;
          var page = new DOMParser().parseFromString(html, "text/html");
          // The cards, the counts by status and the line saying when the figures were
          // refreshed (or why they are missing), as the server wrote them in the page's language.
          ["cards", "counts", "live"].forEach(function (id) {
            var fresh = page.getElementById(id), shown = document.getElementById(id);
            if (fresh && shown) shown.innerHTML = fresh.innerHTML;
          });
          document.dispatchEvent(new Event("tolok:updated"));
        });
    });
  }

  // A narrow chart (a phone) names fewer of tolok's period ticks, the newest always, about
  // one per 80 px, so that they stand level and never run into each other.
  function thinned(axis, target) {
    var values = axis.tickvals, texts = axis.ticktext;
    if (!values || !texts) return axis;
    var room = Math.max(2, Math.floor((target.clientWidth || 640) / 80));
    var step = Math.ceil(values.length / room);
    if (step <= 1) return axis;
    var keep = function (_, i) { return (values.length - 1 - i) % step === 0; };
    return Object.assign(axis, { tickvals: values.filter(keep), ticktext: texts.filter(keep), tickangle: 0 });
  }

  // A page with a chart names Plotly in its figure's `data-plotly` (4.8 MB of script; it and
  // its first draw are most of a KPI page's time in the browser), fetched once the page has
  // loaded: its numbers, its table and the server's picture of the chart are there first,
  // Plotly's chart (hover, zoom) in the picture's place a moment later. A page that
  // loads Plotly itself (a `<script defer>`) is drawn at once. When every chart is drawn,
  // the mark "tolok:charts" says so (bench/page_load.py reads it).
  function charts() {
    // The chart's values as a table: the link opens the folded table it points to.
    document.querySelectorAll("a[data-opens]").forEach(function (link) {
      link.addEventListener("click", function () {
        var box = document.getElementById(link.dataset.opens);
        if (box) box.open = true;
      });
    });
    var figures = document.querySelectorAll("script[data-figure]");
    if (!figures.length) return;
    if (window.Plotly) return drawCharts(figures);
    var named = document.querySelector("script[data-plotly]");
    if (!named) return;
    var fetchPlotly = function () {
      var script = document.createElement("script");
      script.src = named.dataset.plotly;
      script.addEventListener("load", function () { drawCharts(figures); });
      document.head.appendChild(script);
    };
    // After the frame that shows the page (and the server's picture of the chart): parsing
    // Plotly holds the page's thread for a while, and the picture is painted before it.
    var afterPaint = function () {
      requestAnimationFrame(function () { setTimeout(fetchPlotly); });
    };
    if (document.readyState === "complete") afterPaint();
    else window.addEventListener("load", afterPaint);
  }

  function drawCharts(figures) {
    var drawn = [];
    figures.forEach(function (holder) {
      var target = document.getElementById(holder.dataset.figure);
      var figure = JSON.parse(holder.textContent);
      var xaxis = figure.layout.xaxis; // every tick: thinned anew for each width
      var draw = function () {
        var style = getComputedStyle(root);
        var text = style.getPropertyValue("--text").trim(), line = style.getPropertyValue("--line").trim();
        figure.layout.font = Object.assign({}, figure.layout.font, { color: text });
        figure.layout.xaxis = thinned(Object.assign({}, xaxis, { gridcolor: line }), target);
        figure.layout.yaxis = Object.assign({}, figure.layout.yaxis, { gridcolor: line });
        // The server's picture of the chart (its first paint) gives way to Plotly's, in the
        // same frame: nothing blinks.
        var sketch = target.querySelector(".sketch");
        if (sketch) sketch.remove();
        // The toolbar and the locale (its words, month names) come with the figure, from tolok.
        return Plotly.react(target, figure.data, figure.layout,
          Object.assign({ responsive: true, displaylogo: false }, figure.config));
      };
      drawn.push(draw());
      document.addEventListener("tolok:theme", draw);
      // Plotly follows its box's size (`responsive`); the ticks are thinned again for the
      // new width once the resizing stops (a phone turned, an embed's frame resized).
      var again;
      window.addEventListener("resize", function () { clearTimeout(again); again = setTimeout(draw, 200); });
    });
    Promise.all(drawn).then(function () { performance.mark("tolok:charts"); });
  }
})();

// The definition editor (/kpis/NAME/edit) and the new KPI page are in build-kpi.js.
