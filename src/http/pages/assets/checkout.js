// Improves kassa's pages; they work without it (plain links and form posts). On the hosted
// checkout page:
// Live totals as quantities and amounts change, card number and expiry formatting, a countdown
// to expiry, and a disabled Pay button while a payment is on its way.
(function () {
  "use strict";

  // On every page: copy buttons (data-copy="#selector") and confirmations before destructive
  // forms (data-confirm="..."). Without JavaScript the text stays selectable and forms post.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.querySelector(button.getAttribute("data-copy"));
      if (!source || !navigator.clipboard) return;
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        var label = button.textContent;
        button.textContent = "Copied";
        setTimeout(function () {
          button.textContent = label;
        }, 1500);
      });
    });
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (confirmed) {
    confirmed.addEventListener("submit", function (event) {
      if (!window.confirm(confirmed.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  var main = document.querySelector("main.checkout");
  var form = document.getElementById("pay-form");
  if (!main || !form) return;

  var prefix = main.getAttribute("data-currency-prefix") || "";
  var exponent = parseInt(main.getAttribute("data-exponent") || "2", 10);

  // Minor units to text, exactly as the server writes it: "$1,234.56".
  function money(minor) {
    var negative = minor < 0;
    var digits = String(Math.abs(minor));
    while (digits.length <= exponent) digits = "0" + digits;
    var whole = exponent ? digits.slice(0, digits.length - exponent) : digits;
    var fraction = exponent ? "." + digits.slice(digits.length - exponent) : "";
    whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (negative ? "-" : "") + prefix + whole + fraction;
  }

  // Major-unit text to minor units, or NaN.
  function minorUnits(text) {
    var match = /^\s*(\d+)(?:\.(\d*))?\s*$/.exec(text);
    if (!match) return NaN;
    var fraction = match[2] || "";
    if (fraction.length > exponent) return NaN;
    while (fraction.length < exponent) fraction += "0";
    return parseInt(match[1] + fraction, 10);
  }

  var payButton = form.querySelector("[data-pay]");
  var total = document.getElementById("total");

  function recompute() {
    var sum = 0;
    var valid = true;
    document.querySelectorAll("[data-line]").forEach(function (line) {
      var unit = parseInt(line.getAttribute("data-unit-amount"), 10);
      var quantity = parseInt(line.getAttribute("data-line-quantity"), 10);
      var amountInput = line.querySelector("[data-amount]");
      if (amountInput) unit = minorUnits(amountInput.value);
      var quantityInput = line.querySelector("[data-quantity]");
      if (quantityInput) {
        quantity = Number(quantityInput.value);
        var min = Number(quantityInput.min || 1);
        var max = Number(quantityInput.max || 999);
        if (!Number.isInteger(quantity) || quantity < min || quantity > max) {
          valid = false;
          return;
        }
      }
      if (amountInput) {
        var low = Number(amountInput.getAttribute("data-min"));
        var high = Number(amountInput.getAttribute("data-max"));
        if (!(unit >= low && unit <= high)) {
          valid = false;
          return;
        }
      }
      var lineTotal = unit * quantity;
      if (!isFinite(lineTotal)) {
        valid = false;
        return;
      }
      line.querySelector("[data-line-total]").textContent = money(lineTotal);
      // A recurring line of a free first period (a trial) is not charged today.
      if (!line.hasAttribute("data-deferred")) sum += lineTotal;
    });
    if (!valid) return;
    total.textContent = money(sum);
    var label = payButton && payButton.getAttribute("data-label");
    if (label) payButton.textContent = label + money(sum);
  }

  document.querySelectorAll("[data-quantity], [data-amount]").forEach(function (input) {
    input.addEventListener("input", recompute);
  });
  // With live totals the "Update total" button is not needed.
  var update = form.querySelector("[data-update]");
  if (update) update.hidden = true;

  // Card number in groups: 4-4-4-4, or 4-6-5 for American Express.
  var number = form.querySelector("[data-card-number]");
  if (number) {
    number.addEventListener("input", function () {
      var digits = number.value.replace(/\D/g, "").slice(0, 19);
      var groups = /^3[47]/.test(digits) ? [4, 6, 5] : [4, 4, 4, 4, 3];
      var parts = [];
      var at = 0;
      for (var i = 0; i < groups.length && at < digits.length; i++) {
        parts.push(digits.slice(at, at + groups[i]));
        at += groups[i];
      }
      number.value = parts.join(" ");
    });
  }

  // Expiry as "MM / YY" while typing; a four-digit year (12/2029, typed, pasted or autofilled)
  // is left as it is, since the server reads MM/YY and MM/YYYY alike.
  var expiry = form.querySelector("[data-card-expiry]");
  if (expiry) {
    expiry.addEventListener("input", function (event) {
      if (event.inputType !== "insertText") return;
      var value = expiry.value;
      if (/^\s*\d{1,2}\s*\/\s*\d{3,4}\s*$/.test(value)) return; // a four-digit year

      var single = /^(\d)\s*\/$/.exec(value);
      if (single) {
        expiry.value = "0" + single[1] + " / ";
        return;
      }
      var digits = value.replace(/\D/g, "").slice(0, 4);
      expiry.value = digits.length > 2 ? digits.slice(0, 2) + " / " + digits.slice(2) : digits;
    });
  }

  // After a decline or a mistake, take the customer to it.
  var invalid = form.querySelector("[aria-invalid='true']") || document.querySelector("[aria-invalid='true']");
  var alert = document.getElementById("form-alert");
  if (invalid) {
    invalid.focus();
  } else if (alert) {
    alert.setAttribute("tabindex", "-1");
    alert.focus();
  }

  // One submission: the button is disabled while the payment is on its way.
  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    if (submitter && submitter.value === "pay" && payButton) {
      // A disabled button is not sent with the form: carry its value in a hidden field.
      var action = document.createElement("input");
      action.type = "hidden";
      action.name = "action";
      action.value = "pay";
      form.appendChild(action);
      payButton.disabled = true;
      payButton.textContent = "Processing…";
    }
  });

  var expires = document.getElementById("expires");
  if (expires) {
    // Seconds left as the server counts them (its clock, or the session's test clock), so
    // that neither the device's clock nor a test clock's time skews the countdown.
    var deadline = Date.now() + parseInt(expires.getAttribute("data-seconds-left"), 10) * 1000;
    var tick = function () {
      var minutes = Math.ceil((deadline - Date.now()) / 60000);
      if (minutes <= 0) {
        expires.textContent = "This checkout has expired. Reload the page.";
        if (payButton) payButton.disabled = true;
        return;
      }
      var hours = Math.floor(minutes / 60);
      var rest = minutes % 60;
      expires.textContent =
        hours === 0
          ? "Expires in " + rest + (rest === 1 ? " minute" : " minutes")
          : rest === 0
            ? "Expires in " + hours + (hours === 1 ? " hour" : " hours")
            : "Expires in " + hours + " h " + rest + " min";
      setTimeout(tick, 15000);
    };
    tick();
  }
})();
