// The builder of goals, alert rules and schedules (/goals, /definitions/alerts,
// /definitions/schedules): each form[data-builder] is one definition, sent to the definitions
// API as JSON with the session's CSRF token and the fingerprints the page was read with.
// Keys the form does not show stay as the YAML holds them; a field hidden because it does not
// apply (a threshold's `above` when the rule watches a status) is left out. A problem shows
// under the field its path names; a save shows the diff written; a file changed meanwhile
// shows both versions. Nothing typed is lost on an error.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var holder = document.getElementById("builder-data");
    if (!holder) return;
    var known = JSON.parse(holder.textContent);
    var words = known.words;
    var lang = "?lang=" + encodeURIComponent(known.lang);

    function number(text) {
      var t = text.trim().replace(/\s/g, "");
      if (known.lang === "id") t = t.replace(/\./g, "").replace(",", ".");
      else t = t.replace(/,/g, "");
      return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : NaN;
    }
    function listed(text) {
      return text.split(/[,\n]/).map(function (s) { return s.trim(); }).filter(Boolean);
    }
    // Whether an element applies, by the choices its `data-show` names ("when:status,change").
    function applies(form, element) {
      var group = element.closest("[data-show]");
      while (group && form.contains(group)) {
        var rule = group.dataset.show.split(":"), chooser = form.elements.namedItem(rule[0]);
        if (chooser && rule[1].split(",").indexOf(chooser.value) < 0) return false;
        group = group.parentElement && group.parentElement.closest("[data-show]");
      }
      return true;
    }
    function showing(form) {
      form.querySelectorAll("[data-show]").forEach(function (group) {
        group.hidden = !applies(form, group);
      });
    }

    // The definition as the form makes it, over the one the YAML holds.
    function definition(form, entry) {
      var out = Object.assign({}, known.definitions[entry] || {});
      var shown = {}; // keys some applying field sets (`on`: a weekday, or a day of the month)
      Array.prototype.forEach.call(form.elements, function (input) {
        if (input.name && applies(form, input)) shown[input.name] = true;
      });
      Array.prototype.forEach.call(form.elements, function (input) {
        var key = input.name;
        if (!key || key === "name" || input.type === "submit" || input.tagName === "FIELDSET") return;
        if (!applies(form, input)) { if (!shown[key]) delete out[key]; return; }
        var kind = input.dataset.kind || "text", value;
        if (input.multiple) {
          value = Array.prototype.filter.call(input.options, function (o) { return o.selected; })
            .map(function (o) { return o.value; });
        } else if (input.type === "checkbox") { // left out while it says what the default says
          var byDefault = input.dataset.default === "true";
          if (input.checked === byDefault && !(key in (known.definitions[entry] || {}))) {
            delete out[key];
          } else {
            out[key] = input.checked;
          }
          return;
        } else {
          value = input.value.trim();
        }
        if (kind === "list" && typeof value === "string") value = listed(value);
        if (value === "" || (Array.isArray(value) && !value.length)) { delete out[key]; return; }
        if (kind === "number") {
          value = number(value);
          if (isNaN(value)) throw { field: key, message: words.number };
        } else if (kind === "day" && /^\d+$/.test(value)) {
          value = Number(value);
        }
        out[key] = value;
      });
      return out;
    }

    function clear(form) {
      form.querySelectorAll("[data-problem]").forEach(function (span) {
        span.hidden = true; span.textContent = "";
        var input = form.elements.namedItem(span.dataset.problem);
        if (input && input.removeAttribute) input.removeAttribute("aria-invalid");
      });
      var box = form.querySelector("[data-problems]");
      box.hidden = true; box.textContent = "";
    }
    // A problem under the field its path names ([SECTION, NAME, KEY, …]), else above all.
    function show(form, entry, problem) {
      var path = problem.path || [];
      var mine = path[0] === form.dataset.section && (path[1] === entry || !entry);
      var key = problem.field || (mine ? String(path[2] || "") : "");
      if (key === "definition" || key === "fingerprints") key = "";
      key = key.replace(/^definition\./, "").split(".")[0];
      var span = null;
      if (key) form.querySelectorAll('[data-problem="' + key.replace(/[^\w-]/g, "") + '"]')
        .forEach(function (one) { if (!span && applies(form, one)) span = one; });
      var text = window.tolok.problemText(problem, span);
      if (span) {
        span.textContent = span.textContent ? span.textContent + " " + text : text;
        span.hidden = false;
        var input = form.elements.namedItem(key);
        if (input && input.setAttribute) input.setAttribute("aria-invalid", "true");
        return span;
      }
      var box = form.querySelector("[data-problems]"), line = document.createElement("p");
      line.textContent = text;
      box.appendChild(line);
      box.hidden = false;
      return box;
    }

    function send(method, url, body) {
      return window.tolok.send(method, url + lang, body, known.csrf);
    }

    function written(form, got, said) {
      known.fingerprints = got.json.fingerprints;
      var name = got.json.name;
      if (got.json.definition) known.definitions[name] = got.json.definition;
      else delete known.definitions[name];
      var diffs = got.json.diffs || {};
      var text = Object.keys(diffs).map(function (file) { return diffs[file]; }).join("\n");
      var saved = form.querySelector(".saved");
      saved.querySelector("[data-said]").textContent = text ? said : words.unchanged;
      saved.querySelector("[data-diff]").textContent = text; // text, never markup
      saved.querySelector("[data-diff]").hidden = !text;
      var note = saved.querySelector("[data-reload]");
      if (!note) {
        note = document.createElement("p");
        note.className = "sub";
        note.setAttribute("data-reload", "");
        note.textContent = words.reload;
        saved.appendChild(note);
      }
      note.hidden = !(text && form.dataset.entry !== name); // a new one: not in its place yet
      saved.hidden = false;
      document.getElementById("conflict").hidden = true;
    }
    function refused(form, entry, got) {
      var error = got.json.error || {};
      form.querySelector(".saved").hidden = true;
      if (got.status === 409 && error.current !== undefined) {
        document.getElementById("conflict-said").textContent = error.message;
        document.getElementById("conflict-current").textContent = error.current || "";
        document.getElementById("conflict-proposed").textContent = error.proposed || "";
        document.getElementById("conflict").hidden = false;
        return document.getElementById("conflict").scrollIntoView();
      }
      if (error.problems && error.problems.length) {
        var first = null;
        error.problems.forEach(function (p) { first = first || show(form, entry, p); });
        return first && first.scrollIntoView({ block: "center" });
      }
      show(form, entry, { field: error.field || "", message: error.message || words.failed })
        .scrollIntoView({ block: "center" });
    }

    document.querySelectorAll("form[data-builder]").forEach(function (form) {
      var entry = form.dataset.entry;
      var api = form.dataset.api;
      showing(form);
      form.addEventListener("change", function () { showing(form); });
      function answered(said) {
        return function (got) {
          clear(form);
          if (got.status < 300) written(form, got, said); else refused(form, entry, got);
        };
      }
      function failed() { clear(form); show(form, entry, { message: words.failed }); }

      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var wanted;
        clear(form);
        try { wanted = definition(form, entry); } catch (problem) { show(form, entry, problem); return; }
        var body = { definition: wanted, fingerprints: known.fingerprints };
        if (entry) {
          send("PUT", api + "/" + encodeURIComponent(entry), body).then(answered(words.saved), failed);
        } else {
          body.name = form.elements.namedItem("name").value.trim();
          send("POST", api, body).then(answered(words.created), failed);
        }
      });
      var remove = form.querySelector("[data-delete]");
      if (remove) remove.addEventListener("click", function () {
        if (!window.confirm(words.confirm)) return;
        send("DELETE", api + "/" + encodeURIComponent(entry), { fingerprints: known.fingerprints })
          .then(function (got) {
            answered(words.deleted)(got);
            if (got.status < 300) form.querySelector("fieldset").disabled = true;
          }, failed);
      });
    });
  });
})();
