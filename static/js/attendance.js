// "All present" on the attendance form, without a round trip: marks present every learner
// who has no mark yet on the form (a saved mark shows as a checked radio, so it stays, and so
// does a mark chosen but not yet saved). Nothing is saved until the trainer saves the form.
// Without this script the button posts the form and the server does the same.
(function () {
  "use strict";
  var script = document.currentScript;
  var button = document.querySelector("[data-all-present]");
  var status = document.querySelector("[data-all-present-status]");
  if (!button || !script) {
    return;
  }
  function message(count) {
    if (count === 0) {
      return script.getAttribute("data-filled-none");
    }
    if (count === 1) {
      return script.getAttribute("data-filled-one");
    }
    return script.getAttribute("data-filled-many").replace("{num}", String(count));
  }
  button.addEventListener("click", function (event) {
    event.preventDefault();
    var filled = 0;
    var marks = button.form.querySelectorAll("fieldset.attendance-mark");
    Array.prototype.forEach.call(marks, function (fieldset) {
      if (fieldset.querySelector("input[type=radio]:checked")) {
        return;
      }
      var present = fieldset.querySelector("input[type=radio][value=present]");
      if (present) {
        present.checked = true;
        filled += 1;
      }
    });
    if (status) {
      status.textContent = message(filled);
      status.classList.remove("visually-hidden");
      status.classList.add("flash", "flash-info");
    }
  });
})();
