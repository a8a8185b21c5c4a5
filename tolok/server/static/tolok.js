// tolok's pages work without this file; it adds what helps: the theme switch, filters that
// apply themselves, live updates of the board, and the charts (Plotly, figures built by tolok).
"use strict";
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

// The definition editor (/kpis/NAME/edit): the form is sent to the definitions API as JSON,
// with the session's CSRF token and the fingerprints the page was read with. The formula is
// checked as it is typed (the same checks as `tolok validate`); a problem shows under the
// field its path names; a change of values asks for a reason; a save shows the diff written;
// a file changed meanwhile shows both versions. Nothing typed is lost on an error.
(function () {
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-definition]");
    var holder = document.getElementById("definition-data");
    if (!form || !holder) return;
    var known = JSON.parse(holder.textContent);
    var api = "/api/v1/kpis/" + encodeURIComponent(known.name) + "/definition";
    var lang = "?lang=" + encodeURIComponent(known.lang);
    var said = form.dataset;
    var field = function (name) { return form.elements.namedItem(name); };
    var formulaState = document.getElementById("formula-state");

    function listed(text, separator) {
      return text.split(separator).map(function (s) { return s.trim(); }).filter(Boolean);
    }
    function number(text) {
      var t = text.trim().replace(/\s/g, "");
      if (known.lang === "id") t = t.replace(/\./g, "").replace(",", ".");
      else t = t.replace(/,/g, "");
      return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : NaN;
    }
    // The definition as the form makes it: the keys the form does not show stay as written;
    // a key left out of the YAML stays out while the form shows its default.
    function definition() {
      var out = Object.assign({}, known.definition);
      var put = function (key, value) {
        var empty = value === "" || (Array.isArray(value) && !value.length);
        var asDefault = !(key in known.definition) && known.defaults[key] === value;
        if (empty || asDefault) delete out[key]; else out[key] = value;
      };
      ["title", "description", "formula", "unit", "direction", "grain", "owner", "goal", "status"]
        .forEach(function (key) { put(key, field(key).value.trim()); });
      put("tags", listed(field("tags").value, ","));
      put("actions", listed(field("actions").value, "\n"));
      var target = field("target");
      if (target) {
        if (!target.value.trim()) delete out.target;
        else {
          var value = number(target.value);
          if (isNaN(value)) throw { field: "target", message: said.number };
          out.target = Object.assign({}, known.definition.target || {}, { value: value });
        }
      }
      return out;
    }

    function clear() {
      form.querySelectorAll("[data-problem]").forEach(function (span) {
        span.hidden = true; span.textContent = "";
        var input = field(span.dataset.problem);
        if (input && input.removeAttribute) input.removeAttribute("aria-invalid");
      });
      var box = document.getElementById("problems");
      box.hidden = true; box.textContent = "";
    }
    // A problem under the field its path names (["kpis", NAME, "formula", …]), else above all.
    function show(problem) {
      var path = problem.path || [];
      var key = path[0] === "kpis" && path[1] === known.name ? String(path[2] || "") : "";
      if (problem.field) key = problem.field;
      var span = key && form.querySelector('[data-problem="' + key.replace(/[^\w-]/g, "") + '"]');
      var text = (problem.code ? problem.code + " " : "") + problem.message
        + (problem.hint ? " " + problem.hint : "")
        + (problem.line && !span ? " (" + problem.file + ":" + problem.line + ")" : "");
      if (span) {
        span.textContent = span.textContent ? span.textContent + " " + text : text;
        span.hidden = false;
        var input = field(key);
        if (input && input.setAttribute) input.setAttribute("aria-invalid", "true");
        return span;
      }
      var box = document.getElementById("problems"), line = document.createElement("p");
      line.textContent = text;
      box.appendChild(line);
      box.hidden = false;
      return box;
    }

    function send(method, url, body) {
      var headers = { "Content-Type": "application/json", "Accept": "application/json" };
      if (said.csrf) headers["X-CSRF-Token"] = said.csrf;
      return fetch(url + lang, { method: method, headers: headers, credentials: "same-origin",
                                 body: JSON.stringify(body) })
        .then(function (answer) {
          return answer.json().catch(function () { return {}; })
            .then(function (json) { return { status: answer.status, json: json }; });
        });
    }

    // The live check: a moment after the typing stops, the whole would-be definition.
    var waiting, asked = 0;
    function check() {
      var mine = ++asked, wanted;
      try { wanted = definition(); } catch (problem) { clear(); show(problem); return; }
      formulaState.textContent = said.checking;
      send("POST", api + "/check", { definition: wanted }).then(function (got) {
        if (mine !== asked) return; // a later check is on its way
        clear();
        formulaState.textContent = "";
        if (got.status !== 200) {
          show({ message: (got.json.error && got.json.error.message) || said.failed });
        } else if (got.json.ok) {
          formulaState.textContent = said.fine;
        } else {
          got.json.problems.forEach(show);
        }
      }, function () { formulaState.textContent = ""; });
    }
    field("formula").addEventListener("input", function () {
      clearTimeout(waiting);
      waiting = setTimeout(check, 400);
    });

    function written(got, words) {
      known.fingerprints = got.json.fingerprints;
      if (got.json.definition) known.definition = got.json.definition;
      var diffs = got.json.diffs || {};
      var text = Object.keys(diffs).map(function (file) { return diffs[file]; }).join("\n");
      document.getElementById("saved-said").textContent = text ? words : said.unchanged;
      document.getElementById("diff").textContent = text; // text, never markup
      document.getElementById("diff").hidden = !text;
      document.getElementById("saved").hidden = false;
      document.getElementById("conflict").hidden = true;
      field("reason").value = "";
      if (field("title").value.trim()) {
        var link = document.getElementById("kpi-link");
        if (link) link.textContent = field("title").value.trim();
      }
    }
    function refused(got) {
      var error = got.json.error || {};
      document.getElementById("saved").hidden = true;
      if (got.status === 409 && error.current !== undefined) {
        document.getElementById("conflict-said").textContent = error.message;
        document.getElementById("conflict-current").textContent = error.current || "";
        document.getElementById("conflict-proposed").textContent = error.proposed || "";
        document.getElementById("conflict").hidden = false;
        return document.getElementById("conflict").scrollIntoView();
      }
      if (error.problems && error.problems.length) {
        var first = null;
        error.problems.forEach(function (p) { first = first || show(p); });
        return first && first.scrollIntoView({ block: "center" });
      }
      var where = show({ field: error.field === "reason" ? "reason" : "",
                         message: error.message || said.failed });
      if (error.field === "reason") field("reason").focus();
      else where.scrollIntoView({ block: "center" });
    }
    function answered(words) {
      return function (got) {
        clear();
        if (got.status < 300) written(got, words); else refused(got);
      };
    }
    function failed() { clear(); show({ message: said.failed }); }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var wanted;
      try { wanted = definition(); } catch (problem) { clear(); show(problem); return; }
      var body = { definition: wanted, fingerprints: known.fingerprints };
      var reason = field("reason").value.trim();
      if (reason) body.reason = reason;
      formulaState.textContent = "";
      send("PUT", api, body).then(answered(said.saved), failed);
    });
    var retire = document.getElementById("retire");
    if (retire) retire.addEventListener("click", function () {
      if (!window.confirm(said.confirm)) return;
      var body = { fingerprints: known.fingerprints };
      var reason = field("reason").value.trim();
      if (reason) body.reason = reason;
      send("DELETE", api, body).then(function (got) {
        answered(said.retired)(got);
        if (got.status < 300) { field("status").value = "retired"; retire.hidden = true; }
      }, failed);
    });
  });
})();
