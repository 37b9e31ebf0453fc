// A "Print this sheet" button: hidden in the page and shown only here, so that without this
// script nobody is offered a button that does nothing (the browser's own Print command works
// either way).
(function () {
  "use strict";
  if (typeof window.print !== "function") {
    return;
  }
  var buttons = document.querySelectorAll("button[data-print]");
  Array.prototype.forEach.call(buttons, function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
