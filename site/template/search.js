// The search page: finds the words of ?q= in the index MyST built (search-index.js) and lists the
// sections that contain all of them, those with the words in their titles first.
(function () {
  "use strict";
  var MAX_RESULTS = 30;
  var SNIPPET = 160;

  function terms(query) {
    return query.toLowerCase().split(/\s+/).filter(function (t) { return t.length > 0; });
  }

  function score(entry, words) {
    var title = entry.title.toLowerCase();
    var text = entry.text.toLowerCase();
    var total = 0;
    for (var i = 0; i < words.length; i++) {
      var inTitle = title.indexOf(words[i]) >= 0;
      if (!inTitle && text.indexOf(words[i]) < 0) { return 0; }
      total += inTitle ? 3 : 1;
    }
    return total;
  }

  function snippet(text, word) {
    var at = text.toLowerCase().indexOf(word);
    if (at < 0) { return text.slice(0, SNIPPET); }
    var start = Math.max(0, at - SNIPPET / 3);
    if (start > 0) { start = text.indexOf(" ", start) + 1; }  // begin with a whole word
    return (start > 0 ? "… " : "") + text.slice(start, start + SNIPPET) + " …";
  }

  function show(results, query, words) {
    var box = document.getElementById("search-results");
    box.textContent = "";
    var summary = document.createElement("p");
    summary.textContent = results.length === 0
      ? "Nothing found for “" + query + "”."
      : results.length + (results.length === 1 ? " section" : " sections") + " found for “" + query + "”"
        + (results.length > MAX_RESULTS ? " (the first " + MAX_RESULTS + " are shown)." : ".");
    box.appendChild(summary);
    var list = document.createElement("ol");
    results.slice(0, MAX_RESULTS).forEach(function (entry) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = entry.href;
      link.textContent = entry.title;
      item.appendChild(link);
      if (entry.text) {
        var text = document.createElement("p");
        text.className = "snippet";
        text.textContent = snippet(entry.text, words[0]);
        item.appendChild(text);
      }
      list.appendChild(item);
    });
    if (results.length > 0) { box.appendChild(list); }
  }

  var query = new URLSearchParams(window.location.search).get("q") || "";
  document.getElementById("search-query").value = query;
  var words = terms(query);
  if (words.length === 0) { return; }
  var found = (window.CLINIC_SEARCH_INDEX || [])
    .map(function (entry) { return { entry: entry, score: score(entry, words) }; })
    .filter(function (hit) { return hit.score > 0; })
    .sort(function (a, b) { return b.score - a.score; })
    .map(function (hit) { return hit.entry; });
  show(found, query, words);
}());
