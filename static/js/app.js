// Progressive enhancement only: every page works without this file.
// A form marked data-confirm asks before it submits (deleting, removing a credit).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
