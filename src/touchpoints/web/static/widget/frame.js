/*
 * Inside the survey widget's frame: Esc asks the host page to close the widget, and the
 * thank-you page tells it the survey is done. Does nothing when the page is not framed.
 */
(function () {
  "use strict";
  if (window.parent === window) return;
  function tell(type) {
    // Only a type, nothing personal, so any host may hear it; the widget checks the sender.
    window.parent.postMessage({ type: type }, "*");
  }
  // On release, so the key press is over before the host removes this frame.
  document.addEventListener("keyup", function (event) {
    if (event.key === "Escape" || event.key === "Esc") tell("touchpoints:close");
  });
  if (document.querySelector("[data-touchpoints-completed]")) tell("touchpoints:completed");
})();
