// The page of an issuing job: keeps its numbers, bar and list of candidates not issued up
// to date while the job runs, by polling its progress.json. Without this file the page
// shows the numbers as of loading, with a Refresh link.
(function () {
  "use strict";
  var panel = document.getElementById("job-progress");
  if (!panel || !window.fetch) {
    return;
  }
  var url = panel.getAttribute("data-progress-url");
  var INTERVAL = 1500;

  function field(name) {
    return document.querySelector('[data-field="' + name + '"]');
  }

  function setText(name, value) {
    var element = field(name);
    if (element) {
      element.textContent = String(value);
    }
  }

  var statusLabel = field("status-label");
  var labels = {};
  try {
    labels = JSON.parse(statusLabel.getAttribute("data-labels")) || {};
  } catch (error) {
    labels = {};
  }

  // The page's words, in its language (the template passes them; English if it did not).
  var words = { outcome: "Outcome", reason: "Reason", skipped: "Skipped", bar: "%(settled)s of %(total)s" };
  try {
    var given = JSON.parse(field("failures").getAttribute("data-words"));
    Object.keys(given || {}).forEach(function (key) {
      words[key] = given[key];
    });
  } catch (error) {
    // keep the English words
  }

  function showFailures(failures) {
    var wrapper = field("failures");
    var empty = field("no-failures");
    var body = wrapper.querySelector("tbody");
    while (body.firstChild) {
      body.removeChild(body.firstChild);
    }
    failures.forEach(function (failure) {
      var row = document.createElement("tr");
      var name = document.createElement("th");
      name.setAttribute("scope", "row");
      var link = document.createElement("a");
      link.href = failure.candidate_url;
      link.textContent = failure.candidate;
      name.appendChild(link);
      var outcome = document.createElement("td");
      outcome.setAttribute("data-label", words.outcome);
      // "Not issued", "Not requested" or "Not approved": the page says which.
      outcome.textContent =
        failure.outcome === "skipped" ? words.skipped : wrapper.getAttribute("data-not-done") || "Not issued";
      var reason = document.createElement("td");
      reason.setAttribute("data-label", words.reason);
      reason.textContent = failure.reason;
      row.appendChild(name);
      row.appendChild(outcome);
      row.appendChild(reason);
      body.appendChild(row);
    });
    wrapper.hidden = failures.length === 0;
    empty.hidden = failures.length !== 0;
  }

  function show(progress) {
    var settled = progress.issued + progress.failed + progress.skipped;
    statusLabel.textContent = labels[progress.status] || progress.status;
    setText("settled", settled);
    setText("total", progress.total);
    ["issued", "failed", "skipped", "remaining"].forEach(function (name) {
      setText(name, progress[name]);
    });
    var bar = field("bar");
    bar.max = progress.total;
    bar.value = settled;
    bar.textContent = words.bar.replace("%(settled)s", settled).replace("%(total)s", progress.total);
    var error = field("error");
    error.textContent = progress.error || "";
    error.hidden = !progress.error;
    showFailures(progress.failures);
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (progress) {
        show(progress);
        if (progress.finished) {
          showRefresh(false);
        } else {
          window.setTimeout(poll, INTERVAL);
        }
      })
      .catch(function () {
        // Logged out, or the server is restarting: offer the Refresh link again.
        showRefresh(true);
      });
  }

  function showRefresh(visible) {
    var refresh = field("refresh");
    if (refresh) {
      refresh.hidden = !visible;
    }
  }

  // Live from here on: the Refresh link is for pages without JavaScript.
  showRefresh(false);
  if (panel.getAttribute("data-finished") !== "true") {
    window.setTimeout(poll, INTERVAL);
  }
})();
