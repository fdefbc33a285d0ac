// Progressive enhancement only: every page works without this file.
// A form marked data-confirm asks before it submits (deleting, removing a credit).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
// A checkbox marked data-select-all="NAME" ticks or clears every checkbox named NAME
// (the officers' queue: "all on this page"). Without this file the button that approves
// everything awaiting the body does the same job.
document.addEventListener("change", function (event) {
  var box = event.target;
  var name = box.getAttribute && box.getAttribute("data-select-all");
  if (!name) {
    return;
  }
  document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (other) {
    other.checked = box.checked;
  });
});
// A button marked data-copy-from="ID" copies the value of the field with that id and says
// so in the status beside it (its data-copied text). It is hidden in the page and shown
// here only where the browser may write to the clipboard; elsewhere the read-only field is
// still selected and copied by hand. Should the copy fail, the field's text is selected.
if (navigator.clipboard && window.isSecureContext) {
  document.querySelectorAll("button[data-copy-from]").forEach(function (button) {
    button.hidden = false;
  });
}
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("button[data-copy-from]");
  if (!button) {
    return;
  }
  var field = document.getElementById(button.getAttribute("data-copy-from"));
  var status = document.getElementById(button.getAttribute("data-copy-from") + "-copied");
  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }
  navigator.clipboard.writeText(field.value).then(
    function () {
      say(button.getAttribute("data-copied"));
    },
    function () {
      field.focus();
      field.select();
      say(button.getAttribute("data-copy-failed"));
    }
  );
});
