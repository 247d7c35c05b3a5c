// When an htmx request fails (403, 404, 500, expired session, network down), htmx swaps
// nothing: tell the user instead of leaving a button that seems to do nothing.
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("htmx-error");
  if (!box) return;
  function show(event) {
    var status = event.detail && event.detail.xhr ? event.detail.xhr.status : 0;
    var message = status === 403 ? box.dataset.forbidden
      : status === 404 ? box.dataset.notFound
      : status === 0 ? box.dataset.offline
      : box.dataset.failed;
    box.querySelector("p").textContent = message;
    box.hidden = false;
    box.focus();
  }
  document.body.addEventListener("htmx:responseError", show);
  document.body.addEventListener("htmx:sendError", show);
});
