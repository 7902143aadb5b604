// Small form behaviours, kept out of the templates so that pages need no inline script
// (Content-Security-Policy: script-src 'self').
//   <select data-submit-on-change>  submits its form when the choice changes
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-submit-on-change]").forEach(function (field) {
      field.addEventListener("change", function () { field.form.submit(); });
    });
  });
})();
