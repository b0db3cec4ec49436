/* The search page: Pagefind's UI, told where its bundle and the site live (works under a subpath). */
(function () {
  var el = document.getElementById("search");
  if (!el || !window.PagefindUI) return;
  var ui = new window.PagefindUI({
    element: "#search", bundlePath: el.dataset.bundle, baseUrl: el.dataset.base,
    showImages: false, showSubResults: false, resetStyles: false, pageSize: 10
  });
  // Pagefind's input has only a title; give it a visible label (axe: label-title-only).
  var input = el.querySelector("input.pagefind-ui__search-input");
  if (input && !input.id) {
    input.id = "search-input";
    var label = document.createElement("label");
    label.htmlFor = input.id;
    label.className = "search-label";
    label.textContent = "Search articles, stories and names";
    input.parentNode.insertBefore(label, input);
  }
  var q = new URLSearchParams(window.location.search).get("q");
  if (q) ui.triggerSearch(q);
})();
