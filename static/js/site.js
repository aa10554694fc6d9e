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

  // Phones: the menu button opens and closes the links (CSS shows the button below 40rem only).
  function navMenu(nav) {
    var button = nav.querySelector(".nav-toggle");
    if (!button) return;
    var set = function (open) {
      nav.classList.toggle("is-open", open);
      button.setAttribute("aria-expanded", String(open));
    };
    button.addEventListener("click", function () {
      set(!nav.classList.contains("is-open"));
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && nav.classList.contains("is-open")) {
        set(false);
        button.focus();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form#document-form").forEach(toggleCategories);
    document.querySelectorAll(".site-nav").forEach(navMenu);
  });
})();
