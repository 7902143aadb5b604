// Small form behaviours, kept out of the templates so that pages need no inline script
// (Content-Security-Policy: script-src 'self').
//   <select data-submit-on-change>  submits its form when the choice changes
//   <form data-confirm="Question?">  asks the question first, and is sent only on OK
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-submit-on-change]").forEach(function (field) {
      field.addEventListener("change", function () { field.form.submit(); });
    });
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  });
})();
