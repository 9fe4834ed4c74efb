// Partner portal: a "Copy link" button next to the tracking link (the page works without it).
(function () {
  var input = document.getElementById("tracking-url");
  var button = document.getElementById("copy-tracking");
  var status = document.getElementById("copy-status");
  if (!input || !button || !status) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    var done = function () { status.textContent = button.dataset.copied; };
    input.select();
    if (navigator.clipboard) {
      navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });
})();
