// Live job progress: every element with data-job-url is refreshed from its JSON view every 2 s
// until the job finishes. On a job page (data-reload-on-finish) the page reloads once at the end
// so that the result and the validation report appear.
(function () {
  "use strict";
  var POLL_MS = 2000;

  function update(element, job) {
    var bar = element.querySelector(".progress-bar");
    var percent = Math.round((job.progress || 0) * 100);
    if (bar) {
      bar.style.width = percent + "%";
      bar.setAttribute("aria-valuenow", String(percent));
    }
    var fields = {
      ".job-percent": percent + "%",
      ".job-status": job.status_display,
      ".job-message": job.message || "",
      ".job-error": job.error || ""
    };
    Object.keys(fields).forEach(function (selector) {
      element.querySelectorAll(selector).forEach(function (node) { node.textContent = fields[selector]; });
    });
    element.setAttribute("data-job-status", job.status);
    element.classList.toggle("failed", job.status === "failed");
    element.classList.toggle("succeeded", job.status === "succeeded");
  }

  function poll(element) {
    var url = element.getAttribute("data-job-url");
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (job) {
        update(element, job);
        if (job.is_finished) {
          if (element.hasAttribute("data-reload-on-finish")) { window.location.reload(); }
          return;
        }
        window.setTimeout(function () { poll(element); }, POLL_MS);
      })
      .catch(function () { window.setTimeout(function () { poll(element); }, POLL_MS * 2); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-job-url]").forEach(function (element) {
      var status = element.getAttribute("data-job-status");
      if (status === "queued" || status === "running") { poll(element); }
    });
  });
})();
