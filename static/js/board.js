/* Small enhancements of the board's pages; every page works without this file. */
(function () {
  "use strict";

  // Lot page: a thumbnail shows its photo in the main frame instead of opening the file.
  function gallery(root) {
    var main = root.querySelector("[data-gallery-main]");
    if (!main) return;
    var image = main.querySelector("img");
    root.querySelectorAll(".gallery-thumbs a[data-full]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        image.src = link.getAttribute("data-full");
        main.href = link.getAttribute("data-full");
        root.querySelectorAll(".gallery-thumbs a").forEach(function (other) {
          other.removeAttribute("aria-current");
        });
        link.setAttribute("aria-current", "true");
      });
    });
  }

  // Buttons that change something for good ask first.
  function confirmations() {
    document.querySelectorAll("button[data-confirm]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  }

  // Photo upload: say at once when more files are chosen than the lot has room for.
  function photoLimit(form) {
    var input = form.querySelector("input[type='file']");
    var max = parseInt(form.getAttribute("data-max-files"), 10);
    if (!input || !max) return;
    input.addEventListener("change", function () {
      var message = input.files.length > max ? (form.getAttribute("data-too-many") || "") : "";
      input.setCustomValidity(message);
      if (message) input.reportValidity();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".gallery").forEach(gallery);
    document.querySelectorAll("form.photo-form").forEach(photoLimit);
    confirmations();
  });
})();
