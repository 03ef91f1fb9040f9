// The compose form: while the citizen writes, pre-select the topic the model suggests, until
// they pick one themselves. Without this script the plain select works the same (the preview
// pre-selects the suggestion on the server).
(function () {
  "use strict";
  var select = document.querySelector("select[data-suggest-url]");
  var form = select && select.form;
  if (!form || !window.fetch) return;
  var title = form.elements.title;
  var body = form.elements.body;
  var chosen = select.value !== "";
  var timer = null;
  var asked = "";
  select.addEventListener("change", function () { chosen = true; });

  function optionFor(path) {
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].getAttribute("data-path") === path) return select.options[i];
    }
    return null;
  }

  function ask() {
    var text = (title.value || "") + "\n" + (body.value || "");
    if (chosen || text.trim().length < 10 || text === asked) return;
    asked = text;
    fetch(select.getAttribute("data-suggest-url"), {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ title: title.value || "", body: body.value || "" })
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (answer) {
      if (chosen || !answer || !answer.topics || !answer.topics.length) return;
      var path = answer.topics[0].path;
      var option = optionFor(path.join("/")) || optionFor(path[0]);
      if (option) select.value = option.value;
    }).catch(function () { /* the citizen chooses by hand */ });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(ask, 800);
  }
  if (title && body) {
    title.addEventListener("input", later);
    body.addEventListener("input", later);
    body.addEventListener("blur", ask);
  }
})();
