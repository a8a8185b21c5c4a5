// tolok's pages work without this file; it adds what helps: the theme switch, filters that
// apply themselves, live updates of the board, and the charts (Plotly, figures built by tolok).
"use strict";
(function () {
  var root = document.documentElement;
  // Loaded in <head> without `defer`: the theme chosen before is set before the page is drawn.
  try { var chosen = localStorage.getItem("tolok-theme"); if (chosen) root.dataset.theme = chosen; } catch (e) {}
  document.addEventListener("DOMContentLoaded", function () {
    var theme = document.getElementById("theme");
    if (theme) theme.addEventListener("click", function () {
      var dark = root.dataset.theme === "dark" ||
        (root.dataset.theme === "auto" && matchMedia("(prefers-color-scheme: dark)").matches);
      root.dataset.theme = dark ? "light" : "dark";
      try { localStorage.setItem("tolok-theme", root.dataset.theme); } catch (e) {}
      document.dispatchEvent(new Event("tolok:theme"));
    });
    document.querySelectorAll("[data-autosubmit]").forEach(function (field) {
      field.addEventListener("change", function () { field.form.submit(); });
    });
    live();
    charts();
  });

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
          var fresh = page.getElementById("cards");
          var note = page.getElementById("live");
          if (fresh) cards.innerHTML = fresh.innerHTML;
          if (note) marker.textContent = note.textContent;
          document.dispatchEvent(new Event("tolok:updated"));
        });
    });
  }

  function charts() {
    var figures = document.querySelectorAll("script[data-figure]");
    if (!figures.length || !window.Plotly) return;
    figures.forEach(function (holder) {
      var target = document.getElementById(holder.dataset.figure);
      var figure = JSON.parse(holder.textContent);
      var draw = function () {
        var style = getComputedStyle(root);
        var text = style.getPropertyValue("--text").trim(), line = style.getPropertyValue("--line").trim();
        figure.layout.font = Object.assign({}, figure.layout.font, { color: text });
        figure.layout.xaxis = Object.assign({}, figure.layout.xaxis, { gridcolor: line });
        figure.layout.yaxis = Object.assign({}, figure.layout.yaxis, { gridcolor: line });
        Plotly.react(target, figure.data, figure.layout, { responsive: true, displaylogo: false });
      };
      draw();
      document.addEventListener("tolok:theme", draw);
    });
  }
})();
