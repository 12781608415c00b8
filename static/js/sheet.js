// The sheet, enhanced: warn before leaving with changes not yet saved. Without script the form
// works the same; nothing here is needed to fill, save or submit.
(function () {
  const form = document.getElementById("sheet-form");
  if (!form) return;
  let dirty = false;
  function changed() { dirty = true; }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  // Saving or submitting is leaving on purpose.
  form.addEventListener("submit", function () { dirty = false; });
  window.addEventListener("beforeunload", function (event) {
    if (!dirty) return;
    event.preventDefault();
    event.returnValue = "";  // older browsers show their own "leave the page?" text only when this is set
  });
})();
