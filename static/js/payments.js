/* Deposits and payments in the browser. Stripe.js (settings.STRIPE_JS_URL: Stripe's own, or
   localstripe's in the tests) does everything that touches a card; this file only calls our
   API and moves between pages. Every sentence comes from the page (translated there). */
(function () {
  "use strict";

  function csrf(root) {
    var input = root.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function post(root, url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(root), Accept: "application/json" },
      body: JSON.stringify(body || {}),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(data.detail || response.statusText);
          error.code = data.code;
          throw error;
        }
        return data;
      });
    });
  }

  function show(node, text) {
    if (!node) return;
    node.textContent = text || "";
    node.hidden = !text;
  }

  // Saving a card: SetupIntent from our API, confirmCardSetup with a Card Element.
  function cardSetup(form) {
    var stripe = window.Stripe(form.dataset.key);
    var card = stripe.elements().create("card");
    card.mount(form.querySelector("[data-role=card-element]"));
    var error = form.querySelector("[data-role=error]");
    var status = form.querySelector("[data-role=status]");
    var button = form.querySelector("button[type=submit]");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      show(error, "");
      show(status, form.dataset.msgWorking);
      post(form, form.dataset.setupUrl)
        .then(function (setup) {
          return stripe.confirmCardSetup(setup.client_secret, { payment_method: { card: card } });
        })
        .then(function (result) {
          if (result.error) throw new Error(result.error.message || form.dataset.msgError);
          return post(form, form.dataset.cardsUrl, { setup_intent: result.setupIntent.id });
        })
        .then(function () {
          show(status, form.dataset.msgSaved);
          window.location.assign(form.dataset.next || window.location.pathname);
        })
        .catch(function (err) {
          show(status, "");
          show(error, err.message || form.dataset.msgError);
          button.disabled = false;
        });
    });
  }

  // Registering for a lot: the server holds the deposit on the saved card.
  function depositBox(box) {
    var button = box.querySelector("[data-deposit-register]");
    if (!button) return;
    var message = box.querySelector("[data-role=message]");
    button.addEventListener("click", function () {
      button.disabled = true;
      show(message, box.dataset.msgWorking);
      post(box, box.dataset.url)
        .then(function (deposit) {
          box.dataset.status = deposit.status;
          if (deposit.status === "requires_action") {
            window.location.assign(box.dataset.confirmUrl);
          } else {
            window.location.reload();
          }
        })
        .catch(function (err) {
          show(message, err.message || box.dataset.msgError);
          button.disabled = false;
        });
    });
  }

  // The bank asks for authentication (a deposit hold, or a balance payment).
  function confirmPayment(panel) {
    var error = panel.querySelector("[data-role=error]");
    var stripe = window.Stripe ? window.Stripe(panel.dataset.key) : null;
    function finish() {
      return post(panel, panel.dataset.refreshUrl).then(function () {
        window.location.assign(panel.dataset.next);
      });
    }
    var confirm = panel.querySelector("[data-role=confirm]");
    if (confirm) {
      confirm.addEventListener("click", function () {
        confirm.disabled = true;
        var data = panel.dataset.paymentMethod ? { payment_method: panel.dataset.paymentMethod } : undefined;
        stripe.confirmCardPayment(panel.dataset.clientSecret, data)
          .then(function (result) {
            if (result.error) throw new Error(result.error.message || panel.dataset.msgError);
            return finish();
          })
          .catch(function (err) {
            show(error, err.message || panel.dataset.msgError);
            confirm.disabled = false;
          });
      });
    }
    var pay = panel.querySelector("[data-role=pay]");
    if (pay) {
      pay.addEventListener("click", function () {
        pay.disabled = true;
        post(panel, panel.dataset.payUrl)
          .then(function () { window.location.reload(); })
          .catch(function (err) {
            show(error, err.message || panel.dataset.msgError);
            pay.disabled = false;
          });
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-card-setup]").forEach(cardSetup);
    document.querySelectorAll("[data-deposit]").forEach(depositBox);
    document.querySelectorAll("[data-confirm-payment]").forEach(confirmPayment);
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  });
})();
