// "Copy" buttons next to a read-only field (`data-copy` = the field's id): the Clipboard API
// where the page is trusted (https, localhost), else the field is selected and copied the old
// way, or left selected for the user to copy. The status (`data-copy-status`) says which, to
// screen readers too (aria-live). Without script the button stays hidden: the field selects.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input[data-copy-field]").forEach(function (field) {
    field.addEventListener("focus", function () { field.select(); });
  });
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.dataset.copy);
    var status = document.getElementById(button.dataset.copyStatus);
    if (!field) return;
    function say(copied) {
      if (!status) return;
      status.textContent = copied ? button.dataset.copied : button.dataset.select;
      status.classList.toggle("fr-message--valid", copied);
      status.classList.toggle("fr-message--info", !copied);
    }
    function fallback() {
      field.focus();
      field.select();
      field.setSelectionRange(0, field.value.length);
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
      say(copied);
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(function () { say(true); }, fallback);
      } else {
        fallback();
      }
    });
  });
});
