/* The search page: Pagefind's UI, told where its bundle and the site live (works under a subpath). */
(function () {
  var el = document.getElementById("search");
  if (!el || !window.PagefindUI) return;
  var ui = new window.PagefindUI({
    element: "#search", bundlePath: el.dataset.bundle, baseUrl: el.dataset.base,
    showImages: false, showSubResults: false, resetStyles: false, pageSize: 10
  });
  var q = new URLSearchParams(window.location.search).get("q");
  if (q) ui.triggerSearch(q);
})();
