// The KPI form (/kpis/NAME/edit and /kpis/new): the form is sent to the definitions and
// builder APIs as JSON, with the session's CSRF token and the fingerprints the page was read
// with. The formula is checked as it is typed (the same checks as `tolok validate`) and its
// measure and KPI names are suggested; a problem shows under the field its path names; the
// preview computes the last 12 periods; a suggested target is one click away; a change of
// values asks for a reason; a save shows the diff written; a file changed meanwhile shows
// both versions. Nothing typed is lost on an error.
"use strict";
(function () {
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-definition]");
    var holder = document.getElementById("definition-data");
    if (!form || !holder) return;
    var known = JSON.parse(holder.textContent);
    var isNew = !!known.new;
    var lang = "?lang=" + encodeURIComponent(known.lang);
    var said = form.dataset;
    var field = function (name) { return form.elements.namedItem(name); };
    var byId = function (id) { return document.getElementById(id); };
    var formulaState = byId("formula-state");
    var chosen = null; // a catalog template's plan: {template, datasets, columns, measures}

    function name() { return isNew ? field("name").value.trim() : known.name; }
    function checkName() { return /^[A-Za-z][A-Za-z0-9_-]{0,99}$/.test(name()) ? name() : "new_kpi"; }
    function listed(text, separator) {
      return text.split(separator).map(function (s) { return s.trim(); }).filter(Boolean);
    }
    function number(text) {
      var t = text.trim().replace(/\s/g, "");
      if (known.lang === "id") t = t.replace(/\./g, "").replace(",", ".");
      else t = t.replace(/,/g, "");
      return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : NaN;
    }
    function numbered(key, text) {
      var value = number(text);
      if (isNaN(value)) throw { field: key, message: said.number };
      return value;
    }
    function round(value) { return Math.round(value * 1e9) / 1e9; }

    // The target as the form makes it: one value (from a period), a growth rule, or the
    // YAML's own when it is another form.
    function target() {
      var kind = field("target_kind").value, from = field("target_from").value.trim();
      if (kind === "kept") return known.definition.target;
      if (kind === "value" && field("target").value.trim()) {
        var one = { value: numbered("target", field("target").value) };
        if (from) one.from = from;
        return one;
      }
      if (kind === "growth" && field("growth").value.trim()) {
        var rule = { growth: round(numbered("target", field("growth").value) / 100),
                     vs: field("vs").value };
        if (from) rule.from = from;
        return rule;
      }
      return undefined;
    }
    function thresholds() {
      var out = Object.assign({}, known.definition.thresholds || {});
      var changed = false;
      [["at_risk", 0.95], ["off_track", 0.85]].forEach(function (pair) {
        var value = round(numbered("thresholds", field(pair[0]).value) / 100);
        var was = (known.definition.thresholds || {})[pair[0]];
        if (was !== undefined || value !== pair[1]) { out[pair[0]] = value; changed = true; }
      });
      return changed ? out : undefined;
    }
    // The definition as the form makes it: the keys the form does not show stay as written;
    // a key left out of the YAML stays out while the form shows its default.
    function definition() {
      var out = Object.assign({}, known.definition);
      var put = function (key, value) {
        var empty = value === "" || value === undefined || (Array.isArray(value) && !value.length);
        var asDefault = !(key in known.definition) && known.defaults[key] === value;
        if (empty || asDefault) delete out[key]; else out[key] = value;
      };
      ["title", "description", "formula", "unit", "direction", "grain", "owner", "goal"]
        .forEach(function (key) { put(key, field(key).value.trim()); });
      // A new KPI is written with its status, draft or active, whatever the default.
      var status = field("status").value;
      if (isNew) out.status = status; else put("status", status);
      put("tags", listed(field("tags").value, ","));
      put("actions", listed(field("actions").value, "\n"));
      put("target", target());
      put("thresholds", thresholds());
      return out;
    }

    function clear() {
      form.querySelectorAll("[data-problem]").forEach(function (span) {
        span.hidden = true; span.textContent = "";
        var input = field(span.dataset.problem);
        if (input && input.removeAttribute) input.removeAttribute("aria-invalid");
      });
      var mapping = byId("err-mapping");
      if (mapping) { mapping.hidden = true; mapping.textContent = ""; }
      var box = byId("problems");
      box.hidden = true; box.textContent = "";
    }
    // A problem under the field its path names (["kpis", NAME, "formula", …]), else above all.
    function show(problem) {
      var path = problem.path || [];
      var key = path[0] === "kpis" ? String(path[2] || "") : "";
      if (problem.field) key = problem.field;
      if (key === "value" || key === "growth" || key === "from") key = "target";
      var span = key && document.querySelector('[data-problem="' + key.replace(/[^\w-]/g, "") + '"]');
      var text = window.tolok.problemText(problem, span);
      if (span) {
        span.textContent = span.textContent ? span.textContent + " " + text : text;
        span.hidden = false;
        var input = field(key);
        if (input && input.setAttribute) input.setAttribute("aria-invalid", "true");
        return span;
      }
      var box = byId("problems"), line = document.createElement("p");
      line.textContent = text;
      box.appendChild(line);
      box.hidden = false;
      return box;
    }

    function send(method, url, body) {
      return window.tolok.send(method, url + lang, body, said.csrf);
    }
    function unsaved() {
      return { name: checkName(), definition: definition(), new: isNew,
               measures: chosen ? chosen.measures : {} };
    }

    // The live check: a moment after the typing stops, the whole would-be definition.
    var waiting, asked = 0;
    function check() {
      var mine = ++asked, body;
      try { body = unsaved(); } catch (problem) { clear(); show(problem); return; }
      if (!body.definition.formula) return;
      formulaState.textContent = said.checking;
      send("POST", "/api/v1/builder/check", body).then(function (got) {
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
    function later() { clearTimeout(waiting); waiting = setTimeout(check, 400); }
    field("formula").addEventListener("input", later);
    if (isNew) field("name").addEventListener("input", later);

    // Suggestions of the names a formula may use: those that start like the word being
    // typed; arrow keys move, Enter or Tab takes one, Escape closes.
    var names = known.names || [];
    var list = byId("formula-suggestions"), picked = -1;
    function word() {
      var input = field("formula"), upto = input.value.slice(0, input.selectionStart || 0);
      var match = /[A-Za-z_][\w]*$/.exec(upto);
      return match ? { text: match[0], start: upto.length - match[0].length, end: upto.length } : null;
    }
    function suggest() {
      var typed = word();
      list.textContent = ""; picked = -1;
      var found = typed ? names.filter(function (n) {
        return n.toLowerCase().indexOf(typed.text.toLowerCase()) === 0 && n !== typed.text;
      }).slice(0, 8) : [];
      found.forEach(function (n) {
        var item = document.createElement("li");
        item.textContent = n; item.setAttribute("role", "option");
        item.addEventListener("mousedown", function (event) { event.preventDefault(); take(n); });
        list.appendChild(item);
      });
      list.hidden = !found.length;
    }
    function take(n) {
      var typed = word(), input = field("formula");
      if (!typed) return;
      input.value = input.value.slice(0, typed.start) + n + input.value.slice(typed.end);
      var at = typed.start + n.length;
      input.setSelectionRange(at, at);
      list.hidden = true;
      later();
    }
    function highlight(step) {
      var items = list.querySelectorAll("li");
      if (!items.length) return;
      picked = (picked + step + items.length) % items.length;
      items.forEach(function (item, i) { item.setAttribute("aria-selected", String(i === picked)); });
    }
    field("formula").addEventListener("input", suggest);
    field("formula").addEventListener("keydown", function (event) {
      if (list.hidden) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault(); highlight(event.key === "ArrowDown" ? 1 : -1);
      } else if ((event.key === "Enter" || event.key === "Tab") && picked >= 0) {
        event.preventDefault(); take(list.querySelectorAll("li")[picked].textContent);
      } else if (event.key === "Escape") {
        list.hidden = true;
      }
    });
    field("formula").addEventListener("blur", function () { list.hidden = true; });

    // The target's fields of the kind chosen.
    function kinds() {
      var kind = field("target_kind").value;
      form.querySelectorAll("[data-kind]").forEach(function (box) {
        box.hidden = box.dataset.kind.split(" ").indexOf(kind) < 0;
      });
    }
    field("target_kind").addEventListener("change", kinds);
    kinds();

    // The preview: the last 12 periods computed now, drawn with tolok's chart.
    function plotly() {
      if (window.Plotly) return Promise.resolve();
      return new Promise(function (done, failed) {
        var script = document.createElement("script");
        script.src = known.plotly;
        script.addEventListener("load", done);
        script.addEventListener("error", failed);
        document.head.appendChild(script);
      });
    }
    function drawPreview(answer) {
      var rows = byId("preview-table").querySelector("tbody");
      rows.textContent = "";
      answer.periods.forEach(function (p) {
        var row = document.createElement("tr");
        [p.label, p.text, p.target_text, p.status_text || ""].forEach(function (text, i) {
          var cell = document.createElement(i ? "td" : "th");
          if (!i) cell.scope = "row";
          cell.textContent = text;
          if (i === 3 && p.status) cell.className = "status " + p.status;
          row.appendChild(cell);
        });
        rows.appendChild(row);
      });
      byId("preview-table").hidden = false;
      byId("preview-said").textContent = answer.said;
      byId("preview-said").hidden = false;
      var chart = byId("preview-chart");
      chart.hidden = false;
      return plotly().then(function () {
        var figure = answer.figure;
        return Plotly.react(chart, figure.data, figure.layout,
          Object.assign({ responsive: true, displaylogo: false }, figure.config));
      }).then(function () { chart.dataset.drawn = "true"; });
    }
    var previewButton = byId("preview");
    if (previewButton) previewButton.addEventListener("click", function () {
      var body;
      try { body = unsaved(); } catch (problem) { clear(); show(problem); return; }
      byId("preview-said").hidden = false;
      byId("preview-said").textContent = said.computing;
      send("POST", "/api/v1/builder/preview", body).then(function (got) {
        clear();
        if (got.status === 200) return drawPreview(got.json);
        byId("preview-said").hidden = true;
        refused(got);
      }, failed);
    });

    // The target history suggests, one click from the form.
    var suggestButton = byId("suggest"), proposal = null;
    if (suggestButton) suggestButton.addEventListener("click", function () {
      var body;
      try { body = unsaved(); } catch (problem) { clear(); show(problem); return; }
      byId("suggestion").hidden = false;
      byId("suggestion-said").textContent = said.computing;
      byId("use-suggestion").hidden = true;
      send("POST", "/api/v1/builder/suggest-target", body).then(function (got) {
        clear();
        if (got.status !== 200) { byId("suggestion").hidden = true; return refused(got); }
        byId("suggestion-said").textContent = got.json.said;
        proposal = got.json.target;
        byId("use-suggestion").hidden = !proposal;
      }, failed);
    });
    var use = byId("use-suggestion");
    if (use) use.addEventListener("click", function () {
      if (!proposal) return;
      field("target_kind").value = "growth";
      var percent = String(round(proposal.growth * 100));
      field("growth").value = known.lang === "id" ? percent.replace(".", ",") : percent;
      field("vs").value = proposal.vs;
      kinds();
    });

    // From the catalog: the search, a template's mapping onto the datasets, its plan.
    var search = byId("template-search");
    if (search) search.addEventListener("input", function () {
      var words = search.value.toLowerCase().split(/\s+/).filter(Boolean), shown = 0;
      document.querySelectorAll("#template-list li").forEach(function (item) {
        var hay = item.dataset.words;
        item.hidden = !words.every(function (w) { return hay.indexOf(w) >= 0; });
        if (!item.hidden) shown++;
      });
      byId("template-none").hidden = shown > 0;
    });
    var templates = {};
    (known.templates || []).forEach(function (t) { templates[t.name] = t; });
    var datasets = {};
    (known.datasets || []).forEach(function (d) { datasets[d.name] = d; });
    var current = null;
    function option(select, value, text, selected) {
      var o = document.createElement("option");
      o.value = value; o.textContent = text; o.selected = !!selected;
      select.appendChild(o);
    }
    function columnsOf(role) {
      var select = byId("map-dataset-" + role), dataset = datasets[select.value];
      current.roles.forEach(function (r) {
        if (r.role !== role) return;
        r.columns.forEach(function (c) {
          var pick = byId("map-column-" + c.value);
          var was = pick.value;
          pick.textContent = "";
          (dataset ? dataset.columns : []).forEach(function (name) {
            option(pick, name, name, name === was || name === c.value);
          });
        });
      });
    }
    function choose(templateName) {
      current = templates[templateName];
      if (!current) return;
      var box = byId("mapping-fields");
      box.textContent = "";
      byId("mapping-title").textContent = current.title;
      var preset = byId("field-dataset").value || known.dataset || "";
      current.roles.forEach(function (r) {
        var label = document.createElement("label");
        label.htmlFor = "map-dataset-" + r.role;
        label.textContent = r.role + " (" + r.description + ") ";
        var select = document.createElement("select");
        select.id = "map-dataset-" + r.role; select.dataset.role = r.role;
        (known.datasets || []).forEach(function (d) {
          option(select, d.name, d.name, d.name === preset || d.name === r.role);
        });
        label.appendChild(select);
        box.appendChild(label);
        r.columns.forEach(function (c) {
          var row = document.createElement("label");
          row.htmlFor = "map-column-" + c.value;
          row.textContent = c.value + " (" + c.label + ") ";
          var pick = document.createElement("select");
          pick.id = "map-column-" + c.value; pick.dataset.column = c.value;
          row.appendChild(pick);
          box.appendChild(row);
        });
        select.addEventListener("change", function () { columnsOf(r.role); });
        columnsOf(r.role);
      });
      byId("mapping").hidden = false;
      byId("mapping").scrollIntoView({ block: "nearest" });
    }
    document.querySelectorAll("[data-choose]").forEach(function (button) {
      button.addEventListener("click", function () { choose(button.dataset.choose); });
    });
    function slug(text) {
      var s = text.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "")
        .replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 60);
      return /^[a-z]/.test(s) ? s : (s ? "kpi_" + s : "");
    }
    function fill(values) {
      ["title", "description", "formula", "unit", "direction", "grain"].forEach(function (key) {
        if (values[key] !== undefined) field(key).value = values[key];
      });
    }
    var apply = byId("apply-template");
    if (apply) apply.addEventListener("click", function () {
      if (!current) return;
      var roles = {}, columns = {};
      document.querySelectorAll("#mapping-fields [data-role]").forEach(function (s) { roles[s.dataset.role] = s.value; });
      document.querySelectorAll("#mapping-fields [data-column]").forEach(function (s) { columns[s.dataset.column] = s.value; });
      var wanted = name() || current.name;
      var body = { datasets: roles, columns: columns };
      if (/^[A-Za-z][A-Za-z0-9_-]{0,99}$/.test(wanted)) body.name = wanted;
      send("POST", "/api/v1/catalog/" + encodeURIComponent(current.name) + "/plan", body)
        .then(function (got) {
          clear();
          if (got.status !== 200) {
            return show({ field: "mapping", message: (got.json.error || {}).message || said.failed });
          }
          var plan = got.json;
          chosen = { template: plan.template, datasets: roles, columns: columns,
                     measures: plan.measures, planned: plan.name };
          // The plan's other keys (level, function, indicator, breakdowns) are kept.
          known.definition = Object.assign({}, plan.definition);
          fill(plan.definition);
          field("name").value = plan.name;
          named = true;
          Object.keys(plan.measures).forEach(function (d) {
            Object.keys(plan.measures[d]).forEach(function (m) { if (names.indexOf(m) < 0) names.push(m); });
          });
          var note = byId("template-chosen");
          note.textContent = said.templateFrom.replace("{template}", current.title);
          note.hidden = false;
          check();
          field("title").focus();
        }, failed);
    });
    var scratch = byId("scratch");
    if (scratch) scratch.addEventListener("click", function () {
      chosen = null; known.definition = {};
      byId("mapping").hidden = true; byId("template-chosen").hidden = true;
      field("formula").focus();
    });
    if (known.template) choose(known.template); // `?template=`: from the catalog's page
    // A new KPI's name follows its title until it is typed.
    var named = false;
    if (isNew) {
      field("name").addEventListener("input", function () { named = true; });
      field("title").addEventListener("input", function () {
        if (!named) field("name").value = slug(field("title").value);
      });
      if (known.dataset && datasets[known.dataset]) {
        names.sort(function (a, b) {
          var mine = datasets[known.dataset].measures;
          return (mine.indexOf(b) >= 0) - (mine.indexOf(a) >= 0) || (a < b ? -1 : 1);
        });
      }
    }

    function written(got, words) {
      known.fingerprints = got.json.fingerprints;
      if (got.json.definition) known.definition = got.json.definition;
      var diffs = got.json.diffs || {};
      var text = Object.keys(diffs).map(function (file) { return diffs[file]; }).join("\n");
      var words2 = text && field("reason") && field("reason").value.trim() && said.version
        ? words + " " + said.version : words;
      byId("saved-said").textContent = text ? words2 : said.unchanged;
      byId("diff").textContent = text; // text, never markup
      byId("diff").hidden = !text;
      byId("saved").hidden = false;
      byId("conflict").hidden = true;
      if (field("reason")) field("reason").value = "";
      if (isNew) {
        byId("saved-link").href = "/kpis/" + encodeURIComponent(got.json.name);
        form.hidden = true;
        byId("start").hidden = true;
      } else if (field("title").value.trim()) {
        var link = byId("kpi-link");
        if (link) link.textContent = field("title").value.trim();
      }
      byId("saved").scrollIntoView({ block: "nearest" });
    }
    function refused(got) {
      var error = got.json.error || {};
      byId("saved").hidden = true;
      if (got.status === 409 && error.current !== undefined) {
        byId("conflict-said").textContent = error.message;
        byId("conflict-current").textContent = error.current || "";
        byId("conflict-proposed").textContent = error.proposed || "";
        byId("conflict").hidden = false;
        return byId("conflict").scrollIntoView();
      }
      if (error.problems && error.problems.length) {
        var first = null;
        error.problems.forEach(function (p) { first = first || show(p); });
        return first && first.scrollIntoView({ block: "center" });
      }
      var known_fields = ["reason", "name", "definition"];
      var where = show({ field: known_fields.indexOf(error.field) >= 0 && error.field !== "definition" ? error.field : "",
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
      formulaState.textContent = "";
      if (!isNew) {
        var body = { definition: wanted, fingerprints: known.fingerprints };
        var reason = field("reason").value.trim();
        if (reason) body.reason = reason;
        var api = "/api/v1/kpis/" + encodeURIComponent(known.name) + "/definition";
        return send("PUT", api, body).then(answered(said.saved), failed);
      }
      if (!/^[A-Za-z][A-Za-z0-9_-]{0,99}$/.test(name())) {
        clear();
        return show({ field: "name", message: said.noName }).scrollIntoView({ block: "center" });
      }
      if (chosen) {
        var add = { datasets: chosen.datasets, columns: chosen.columns, name: name(),
                    planned: chosen.planned, definition: wanted, fingerprints: known.fingerprints };
        return send("POST", "/api/v1/catalog/" + encodeURIComponent(chosen.template) + "/add", add)
          .then(answered(said.saved), failed);
      }
      send("POST", "/api/v1/kpis", { name: name(), definition: wanted, fingerprints: known.fingerprints })
        .then(answered(said.saved), failed);
    });
    var retire = byId("retire");
    if (retire) retire.addEventListener("click", function () {
      if (!window.confirm(said.confirm)) return;
      var body = { fingerprints: known.fingerprints };
      var reason = field("reason").value.trim();
      if (reason) body.reason = reason;
      var api = "/api/v1/kpis/" + encodeURIComponent(known.name) + "/definition";
      send("DELETE", api, body).then(function (got) {
        answered(said.retired)(got);
        if (got.status < 300) { field("status").value = "retired"; retire.hidden = true; }
      }, failed);
    });
  });
})();
