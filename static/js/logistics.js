/* Logistics pages: the carrier's position on a road step (if the browser allows it), net
   weight from gross − tare on the weighing form, and the slip's print button. No framework. */
(function () {
  "use strict";

  function geolocate(form) {
    var status = form.querySelector("[data-geo-status]");
    var lat = form.querySelector("input[name=latitude]");
    var lng = form.querySelector("input[name=longitude]");
    if (!lat || !lng || !navigator.geolocation) return;
    navigator.geolocation.getCurrentPosition(
      function (pos) {
        lat.value = pos.coords.latitude.toFixed(6);
        lng.value = pos.coords.longitude.toFixed(6);
        if (status) status.textContent = lat.value + ", " + lng.value;
      },
      function () { /* no position: the step is recorded without one */ },
      { enableHighAccuracy: false, timeout: 5000, maximumAge: 60000 }
    );
  }

  function netFromGrossTare(form) {
    var gross = form.querySelector("input[name=gross]");
    var tare = form.querySelector("input[name=tare]");
    var net = form.querySelector("input[name=net]");
    if (!gross || !tare || !net) return;
    function update() {
      var g = parseFloat(gross.value), t = parseFloat(tare.value);
      if (!isNaN(g) && !isNaN(t) && g > t && !net.dataset.touched) net.value = (g - t).toFixed(3);
    }
    net.addEventListener("input", function () { net.dataset.touched = "1"; });
    gross.addEventListener("input", update);
    tare.addEventListener("input", update);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-geolocate]").forEach(geolocate);
    document.querySelectorAll("form[data-net-from-gross-tare]").forEach(netFromGrossTare);
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  });
})();
