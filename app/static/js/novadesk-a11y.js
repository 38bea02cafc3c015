/* Accessibility fixes for widgets FAB ships: label the action checkboxes of lists; label the search box of each
   multiple select with its field's label, and drop the list semantics select2 puts on a
   container that is really a combobox. Runs at load and whenever select2 redraws. */
(function ($) {
  "use strict";
  function labelFor(select) {
    var id = select.attr("id");
    var label = id ? $("label[for='" + id + "']").first().text().trim() : "";
    return label || select.attr("name") || "";
  }
  function fix() {
    // FAB's list pages: selection checkboxes for actions have no label.
    $("#check_all:not([aria-label])").attr("aria-label", document.documentElement.lang === "en" ? "Select all rows" : "Sélectionner toutes les lignes");
    $("input.action_check:not([aria-label])").each(function (index) {
      var cells = $(this).closest("tr").find("td").not(":has(input)").not(":has(.btn-group)");
      var text = cells.first().text().trim();
      $(this).attr("aria-label", (document.documentElement.lang === "en" ? "Select " : "Sélectionner ") + (text || "#" + (index + 1)));
    });
    $("select.select2-hidden-accessible").each(function () {
      var select = $(this);
      var container = select.next(".select2-container");
      var text = labelFor(select);
      container.find(".select2-search__field").attr("aria-label", text);
      container.find("ul.select2-selection__rendered").attr("role", "presentation")
        .children("li").attr("role", "presentation");
    });
  }
  // FAB's list actions warn "No row selected" in English: say it in the page's language.
  if (typeof window.ab_alert === "function") {
    var fabAlert = window.ab_alert;
    window.ab_alert = function (text) {
      var localised = $("#modal-alert").attr("data-no-row");
      return fabAlert(text === "No row selected" && localised ? localised : text);
    };
  }
  $(function () {
    fix();
    $(document).on("select2:select select2:unselect select2:open select2:close change", fix);
  });
})(window.jQuery);
/* The top bar's menu button says whether the menu is open (aria-expanded on the button);
   Bootstrap also writes it on the menu itself, where it means nothing: taken off there. */
(function () {
  "use strict";
  var menu = document.getElementById("nd-navbar-menu");
  if (!menu || !window.MutationObserver) return;
  new MutationObserver(function () {
    if (menu.hasAttribute("aria-expanded")) menu.removeAttribute("aria-expanded");
  }).observe(menu, { attributes: true, attributeFilter: ["aria-expanded"] });
})();
