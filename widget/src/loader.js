// NovaDesk's widget loader: the one script a partner adds to its software.
//   <script src="https://<novadesk>/widget.js" data-channel="<public key>" async></script>
// It only places the chat frame (served by NovaDesk) on the page and passes it the identity
// the partner's software vouches for: the host page's styles and scripts never reach the
// conversation, and the frame's never reach the page.
(function () {
  if (window.__novadeskWidget) return;
  var script = document.currentScript || document.querySelector("script[data-channel][src*='widget.js']");
  if (!script) return;
  window.__novadeskWidget = true;

  var base = new URL(script.src, location.href).origin;
  var channel = script.getAttribute("data-channel") || "";
  var lang = (script.getAttribute("data-lang") || document.documentElement.lang || navigator.language || "fr").slice(0, 2).toLowerCase();
  if (lang !== "en") lang = "fr";
  var pending = (window.NovaDesk && window.NovaDesk.q) || [];
  var identity = null;
  var ready = false;

  var frame = document.createElement("iframe");
  frame.src = base + "/widget/frame/" + encodeURIComponent(channel) + "?lang=" + lang;
  frame.title = lang === "en" ? "Chat with support" : "Discussion avec le support";
  frame.setAttribute("allow", "clipboard-write");

  // Inline !important: no stylesheet of the host page can move, hide or restyle the frame.
  function apply(props) {
    for (var key in props) frame.style.setProperty(key, props[key], "important");
  }
  var common = {
    position: "fixed", border: "0", margin: "0", padding: "0", "z-index": "2147483000",
    background: "transparent", "color-scheme": "normal", "box-shadow": "none", display: "block",
    opacity: "1", visibility: "visible", transform: "none", "max-width": "none", "min-width": "0"
  };
  function size(open) {
    apply(common);
    var phone = window.innerWidth < 520;
    if (open && phone) {
      apply({ top: "0", left: "0", right: "0", bottom: "0", width: "100%", height: "100%", "max-height": "none" });
    } else if (open) {
      apply({ top: "auto", left: "auto", right: "16px", bottom: "16px", width: "380px", height: "620px", "max-height": "calc(100% - 32px)" });
    } else {
      // Closed: exactly the launcher's pill and its margin, as the frame measured it.
      apply({ top: "auto", left: "auto", right: "8px", bottom: "8px", width: Math.min(pill.width, room()) + "px", height: pill.height + "px", "max-height": "none" });
    }
  }
  function room() { return Math.max(window.innerWidth - 16, 136); }
  var isOpen = false;
  var pill = { width: 220, height: 68 };
  size(false);
  window.addEventListener("resize", function () {
    size(isOpen);
    post({ type: "novadesk:room", room: room() });
  });

  function post(message) {
    if (frame.contentWindow) frame.contentWindow.postMessage(message, base);
  }
  window.addEventListener("message", function (event) {
    if (event.source !== frame.contentWindow || event.origin !== base) return;
    var data = event.data || {};
    if (data.type === "novadesk:ready") {
      ready = true;
      post({ type: "novadesk:init", identity: identity, lang: lang, room: room() });
    } else if (data.type === "novadesk:size") {
      isOpen = !!data.open;
      if (!isOpen && data.width > 0 && data.height > 0) pill = { width: Math.ceil(data.width), height: Math.ceil(data.height) };
      size(isOpen);
    }
  });

  var api = {
    identify: function (value) {
      identity = value || null;
      if (ready) post({ type: "novadesk:identify", identity: identity });
    },
    open: function () { post({ type: "novadesk:open" }); },
    close: function () { post({ type: "novadesk:close" }); }
  };
  window.NovaDesk = api;
  for (var i = 0; i < pending.length; i++) {
    var call = pending[i];
    if (call && api[call[0]]) api[call[0]](call[1]);
  }
  function place() { (document.body || document.documentElement).appendChild(frame); }
  if (document.body) place(); else document.addEventListener("DOMContentLoaded", place);
})();
