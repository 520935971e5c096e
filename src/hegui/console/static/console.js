// hegui console: small progressive enhancements; every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // severity selects in the lexicon table save on change
  document.querySelectorAll("select.autosubmit").forEach(function (sel) {
    sel.addEventListener("change", function () { sel.form.submit(); });
  });
  // destructive forms ask first
  document.querySelectorAll("form.confirm").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (!window.confirm(form.dataset.confirm || "?")) { ev.preventDefault(); }
    });
  });
  // keep the test text box focused after a test run
  var result = document.getElementById("test-result");
  if (result) { result.scrollIntoView({ block: "nearest" }); }
});
