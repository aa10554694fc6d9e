/* Small progressive enhancements; every page works without this file. */
(function () {
  "use strict";

  // Licence upload: the covered categories only matter for a processing licence.
  function toggleCategories(form) {
    var kind = form.querySelector("select[name='kind']");
    var categories = form.querySelector("[data-field='categories']");
    if (!kind || !categories) return;
    var update = function () {
      categories.hidden = kind.value !== "processing_licence";
    };
    kind.addEventListener("change", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form#document-form").forEach(toggleCategories);
  });
})();
