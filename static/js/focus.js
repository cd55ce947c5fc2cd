// Moves keyboard focus to the first error or refusal shown on load (elements marked
// data-focus-on-load, with tabindex="-1"), so that a screen reader announces it and the
// keyboard continues from there. A static file: the pages allow no inline scripts.
document.addEventListener("DOMContentLoaded", function () {
  var target = document.querySelector("[data-focus-on-load]");
  if (target) {
    target.focus();
    target.scrollIntoView({ block: "center" });
  }
});
