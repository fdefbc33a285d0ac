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
