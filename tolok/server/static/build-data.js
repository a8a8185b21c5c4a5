// "Add data" (/datasets/new): a file is sent to POST /api/v1/uploads (or a warehouse table read
// from /api/v1/warehouse/tables/NAME); its first rows are shown with each column's detected type
// and what it becomes (time column, dimension, measure with its aggregation and name, or not
// used), prefilled with the proposal. Save sends the choice to /api/v1/uploads/ID/dataset (or
// /api/v1/warehouse/tables/NAME/dataset) with the session's CSRF token and the fingerprints the
// page was read with. Bad rows show beside their line; a problem with a field shows under it.
// Nothing typed is lost.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var holder = document.getElementById("dataset-data");
    var pick = document.getElementById("dataset-pick");
    var form = document.getElementById("dataset-proposal");
    if (!holder || !pick || !form) return;
    var known = JSON.parse(holder.textContent);
    var words = known.words;
    var lang = "?lang=" + encodeURIComponent(known.lang);
    var csrf = pick.dataset.csrf;
    var state = document.getElementById("pick-state");
    var current = null; // the answer of the upload (or table) shown
    var table = null; // the warehouse table shown, when it is one

    function fill(text, values) {
      return text.replace(/\{(\w+)\}/g, function (all, key) {
        return key in values ? String(values[key]) : all;
      });
    }
    function element(tag, attributes, text) {
      var made = document.createElement(tag);
      Object.keys(attributes || {}).forEach(function (key) { made.setAttribute(key, attributes[key]); });
      if (text !== undefined) made.textContent = text;
      return made;
    }
    function select(choices, value, attributes) {
      var box = element("select", attributes);
      choices.forEach(function (choice) {
        var option = element("option", { value: choice.value }, choice.label);
        if (choice.value === value) option.selected = true;
        box.appendChild(option);
      });
      return box;
    }
    function answerOf(response) {
      return response.json().catch(function () { return {}; })
        .then(function (json) { return { status: response.status, json: json }; });
    }
    function headers(json) {
      var out = { "Accept": "application/json" };
      if (json) out["Content-Type"] = "application/json";
      if (csrf) out["X-CSRF-Token"] = csrf;
      return out;
    }
    function message(got) {
      return (got.json.error && got.json.error.message) || words.failed;
    }

    // --- problems ------------------------------------------------------------------------
    function clear() {
      form.querySelectorAll("[data-problem]").forEach(function (span) {
        span.textContent = ""; span.hidden = true;
      });
      pick.querySelectorAll("[data-problem]").forEach(function (span) {
        span.textContent = ""; span.hidden = true;
      });
      form.querySelectorAll("[aria-invalid]").forEach(function (input) {
        input.removeAttribute("aria-invalid");
      });
      ["problems", "row-problems"].forEach(function (id) {
        var box = document.getElementById(id);
        box.textContent = ""; box.hidden = true;
      });
      form.querySelectorAll("tr.bad").forEach(function (row) { row.classList.remove("bad"); });
      form.querySelectorAll("td.reason").forEach(function (cell) { cell.textContent = ""; });
    }
    function showField(key, text, where) {
      var span = (where || form).querySelector('[data-problem="' + key.replace(/[^\w.-]/g, "") + '"]');
      if (!span) return false;
      span.textContent = span.textContent ? span.textContent + " " + text : text;
      span.hidden = false;
      return true;
    }
    function showBox(text) {
      var box = document.getElementById("problems");
      box.appendChild(element("p", {}, text));
      box.hidden = false;
    }
    // Bad rows: beside their line in the table when it is shown, and listed above it.
    function showRows(problems) {
      if (!problems || !problems.length) return;
      var box = document.getElementById("row-problems");
      box.appendChild(element("p", {}, words.bad));
      var list = element("ul");
      problems.forEach(function (p) {
        var where = fill(words.line, { line: p.line }) + (p.column ? " · " + p.column : "");
        list.appendChild(element("li", { "data-line": p.line }, where + ": " + p.reason));
        var row = form.querySelector('tr[data-line="' + p.line + '"]');
        if (row) {
          row.classList.add("bad");
          var cell = row.querySelector("td.reason");
          cell.textContent = (cell.textContent ? cell.textContent + " " : "") + p.reason;
        }
      });
      box.appendChild(list);
      box.hidden = false;
    }
    // A problem of the save: under the field its path names, else above the button.
    function showProblem(problem) {
      var path = (problem.path || []).map(String);
      var key = problem.field || "";
      if (path[0] === "datasets") key = path.length > 2 ? path[2] : "name";
      var text = (problem.code ? problem.code + " " : "") + problem.message
        + (problem.hint ? " " + problem.hint : "");
      if (key && showField(key.split(".")[0] === "measures" ? "measures" : key, text)) return;
      showBox(text);
    }

    // --- the table of columns and rows ----------------------------------------------------
    function draw(answer) {
      current = answer;
      var proposal = answer.proposal;
      form.elements.namedItem("name").value = proposal.name;
      var sheetLabel = document.getElementById("sheet-label");
      var sheet = form.elements.namedItem("sheet");
      sheet.textContent = "";
      (answer.sheets || []).forEach(function (name) {
        var option = element("option", { value: name }, name);
        if (name === answer.sheet) option.selected = true;
        sheet.appendChild(option);
      });
      sheetLabel.hidden = (answer.sheets || []).length < 2;
      var time = form.elements.namedItem("time");
      time.textContent = "";
      time.appendChild(element("option", { value: "" }, words.no_time));
      answer.columns.forEach(function (column) {
        var option = element("option", { value: column.name }, column.name);
        if (column.name === proposal.time) option.selected = true;
        time.appendChild(option);
      });
      var counted = proposal.measures.filter(function (m) { return m.column === null; })[0];
      form.elements.namedItem("count_rows").checked = !!counted;
      form.elements.namedItem("count_name").value = counted ? counted.name
        : proposal.name.replace(/s$/, "") + "_count";
      var head = form.querySelector("#preview thead"), body = form.querySelector("#preview tbody");
      head.textContent = ""; body.textContent = "";
      var names = element("tr"), kinds = element("tr"), uses = element("tr"), hows = element("tr");
      names.appendChild(element("th", { scope: "col" }, "#"));
      kinds.appendChild(element("th", { scope: "row" }, words.type));
      uses.appendChild(element("th", { scope: "row" }, words.use));
      hows.appendChild(element("th", { scope: "row" }, words.how));
      answer.columns.forEach(function (column, index) {
        var measure = proposal.measures.filter(function (m) { return m.column === column.name; })[0];
        var role = column.name === proposal.time ? "time"
          : proposal.dimensions.indexOf(column.name) >= 0 ? "dimension" : measure ? "measure" : "ignore";
        var th = element("th", { scope: "col", title: fill(words.values, { n: column.distinct }) }, column.name);
        names.appendChild(th);
        var kind = select(known.kinds, column.kind, { "data-column": index, "data-field": "kind",
                                                      "aria-label": words.type + ": " + column.name });
        kind.dataset.detected = column.kind;
        kinds.appendChild(element("td")).appendChild(kind);
        uses.appendChild(element("td")).appendChild(select(known.roles, role, {
          "data-column": index, "data-field": "role", "aria-label": words.use + ": " + column.name }));
        var cell = element("td", { "data-show": index });
        cell.appendChild(select(known.aggregations, measure ? measure.agg : (column.numeric ? "sum" : "count_distinct"),
          { "data-column": index, "data-field": "agg", "aria-label": words.how + ": " + column.name }));
        cell.appendChild(element("input", { "data-column": index, "data-field": "measure",
          value: measure ? measure.name : column.name.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, ""),
          "aria-label": words.measure_name + ": " + column.name, size: 14, autocomplete: "off", spellcheck: "false" }));
        hows.appendChild(cell);
      });
      names.appendChild(element("th", { scope: "col" }, ""));
      [kinds, uses, hows].forEach(function (row) { row.appendChild(element("td")); });
      [names, kinds, uses, hows].forEach(function (row) { head.appendChild(row); });
      answer.first.forEach(function (row) {
        var tr = element("tr", { "data-line": row.line });
        tr.appendChild(element("th", { scope: "row" }, String(row.line)));
        row.values.forEach(function (value) { tr.appendChild(element("td", {}, value)); });
        tr.appendChild(element("td", { "class": "reason" }));
        body.appendChild(tr);
      });
      roles();
      document.getElementById("file-said").textContent = fill(words.read, { rows: answer.rows });
      form.hidden = false;
      document.getElementById("saved").hidden = true;
      clear();
      showRows(answer.problems);
    }
    // The aggregation and measure name only for columns used as a measure; one time column.
    function roles() {
      var chosen = form.querySelectorAll('select[data-field="role"]');
      chosen.forEach(function (box) {
        var cell = form.querySelector('td[data-show="' + box.dataset.column + '"]');
        var used = box.value === "measure";
        cell.querySelectorAll("select, input").forEach(function (input) { input.hidden = !used; input.disabled = !used; });
      });
    }
    form.addEventListener("change", function (event) {
      var target = event.target;
      if (target.dataset.field === "role" && target.value === "time") {
        var name = current.columns[Number(target.dataset.column)].name;
        form.elements.namedItem("time").value = name;
        form.querySelectorAll('select[data-field="role"]').forEach(function (box) {
          if (box !== target && box.value === "time") box.value = "ignore";
        });
      }
      if (target.name === "time") {
        form.querySelectorAll('select[data-field="role"]').forEach(function (box) {
          var column = current.columns[Number(box.dataset.column)].name;
          if (column === target.value) box.value = "time";
          else if (box.value === "time") box.value = "ignore";
        });
      }
      if (target.name === "sheet" && current.upload) {
        read(fetch("/api/v1/uploads/" + current.upload + lang + "&sheet=" + encodeURIComponent(target.value),
                   { headers: headers(false), credentials: "same-origin" }));
      }
      roles();
    });

    // --- reading a file or a table --------------------------------------------------------
    function read(request) {
      clear();
      state.textContent = words.reading;
      return request.then(answerOf).then(function (got) {
        state.textContent = "";
        if (got.status >= 300) {
          var field = (got.json.error && got.json.error.field) || "file";
          if (!showField(field, message(got), pick)) state.textContent = message(got);
          return;
        }
        draw(got.json);
      }, function () { state.textContent = words.failed; });
    }
    var fileInput = document.getElementById("data-file");
    fileInput.addEventListener("change", function () {
      if (!fileInput.files.length) return;
      var body = new FormData();
      body.append("file", fileInput.files[0]);
      table = null;
      read(fetch("/api/v1/uploads" + lang, { method: "POST", body: body, headers: headers(false),
                                            credentials: "same-origin" }));
    });
    var tables = document.getElementById("data-table");
    document.getElementById("list-tables").addEventListener("click", function () {
      state.textContent = words.reading;
      fetch("/api/v1/warehouse/tables" + lang, { headers: headers(false), credentials: "same-origin" })
        .then(answerOf).then(function (got) {
          state.textContent = got.status >= 300 ? message(got) : "";
          if (got.status >= 300) return;
          tables.textContent = "";
          tables.appendChild(element("option", { value: "" }, words.choose_table));
          got.json.items.forEach(function (item) {
            tables.appendChild(element("option", { value: item.name }, item.name));
          });
          if (!got.json.items.length) state.textContent = words.no_tables;
        });
    });
    tables.addEventListener("change", function () {
      if (!tables.value) return;
      table = tables.value;
      read(fetch("/api/v1/warehouse/tables/" + encodeURIComponent(table) + lang,
                 { headers: headers(false), credentials: "same-origin" }));
    });

    // --- saving ---------------------------------------------------------------------------
    function choice() {
      var out = { name: form.elements.namedItem("name").value.trim(),
                  time: form.elements.namedItem("time").value || null,
                  dimensions: [], measures: [], types: {}, fingerprints: known.fingerprints };
      if (form.elements.namedItem("count_rows").checked) {
        out.measures.push({ name: form.elements.namedItem("count_name").value.trim(), agg: "count", column: null });
      }
      current.columns.forEach(function (column, index) {
        var get = function (field) {
          return form.querySelector('[data-column="' + index + '"][data-field="' + field + '"]');
        };
        var role = get("role").value, kind = get("kind");
        if (kind.value !== kind.dataset.detected) out.types[column.name] = kind.value;
        if (role === "dimension") out.dimensions.push(column.name);
        if (role === "measure") {
          var agg = get("agg").value;
          out.measures.push({ name: get("measure").value.trim(), agg: agg,
                              column: agg === "count" ? null : column.name });
        }
      });
      return out;
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!current) return;
      clear();
      var body = choice(), url;
      if (table) url = "/api/v1/warehouse/tables/" + encodeURIComponent(table) + "/dataset";
      else {
        url = "/api/v1/uploads/" + current.upload + "/dataset";
        if (current.sheet) body.sheet = current.sheet;
      }
      var button = document.getElementById("save-dataset");
      button.disabled = true;
      state.textContent = words.saving;
      fetch(url + lang, { method: "POST", headers: headers(true), credentials: "same-origin",
                          body: JSON.stringify(body) })
        .then(answerOf).then(function (got) {
          button.disabled = false;
          state.textContent = "";
          if (got.status === 201) {
            known.fingerprints = got.json.fingerprints;
            form.hidden = true;
            document.getElementById("saved-said").textContent = words.saved;
            document.getElementById("diff").textContent = Object.keys(got.json.diffs).map(function (file) {
              return got.json.diffs[file];
            }).join("\n");
            document.getElementById("add-kpi").href = "/kpis/new?dataset=" + encodeURIComponent(got.json.name);
            document.getElementById("saved").hidden = false;
            return;
          }
          var error = got.json.error || {};
          if (got.status === 409 && error.field === "fingerprints") { showBox(words.conflict); return; }
          if (error.problems && error.problems.length && error.problems[0].line !== undefined && !error.problems[0].code) {
            showBox(error.message);
            showRows(error.problems);
            return;
          }
          if (error.problems && error.problems.length) { error.problems.forEach(showProblem); return; }
          showProblem({ message: message(got), field: error.field });
        }, function () { button.disabled = false; state.textContent = words.failed; });
    });
  });
})();
