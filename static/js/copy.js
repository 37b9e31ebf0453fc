// A "Copy" button beside a read-only field: copies the field's text to the clipboard and says
// so in the status region next to it, which screen readers announce. The button is hidden in
// the page and shown only here, so that without this script (or without a clipboard to write
// to) nobody is offered a button that does nothing: the field can still be selected and copied.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !navigator.clipboard || !navigator.clipboard.writeText) {
    return;
  }
  var buttons = document.querySelectorAll("button[data-copy]");
  Array.prototype.forEach.call(buttons, function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var holder = button.closest(".field") || document;
    var status = holder.querySelector("[data-copy-status]");
    if (!field) {
      return;
    }
    function announce(text) {
      if (!status) {
        return;
      }
      // Emptied first, so that copying twice is announced twice.
      status.textContent = "";
      window.setTimeout(function () {
        status.textContent = text;
      }, 50);
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(
        function () {
          announce(script.getAttribute("data-copied"));
        },
        function () {
          field.focus();
          field.select();
          announce(script.getAttribute("data-copy-failed"));
        }
      );
    });
  });
})();
