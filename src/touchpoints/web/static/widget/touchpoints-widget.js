/*
 * Touchpoints survey widget: opens a survey for one of your customers in an accessible modal.
 *
 *   <script src="https://cx.example/static/widget/touchpoints-widget.js" defer></script>
 *   <button type="button" data-touchpoints-link="LINK_TOKEN" data-touchpoints-customer="C-1042"
 *           data-touchpoints-expires="1767225600" data-touchpoints-signature="HEX">Feedback</button>
 *
 * or from your own code: Touchpoints.open({link, customerId, source, expires, signature}).
 * The signature comes from your backend (see docs/distribution.md); never compute it in the page.
 * No dependencies; styles are set through the DOM, so a strict host CSP needs no 'unsafe-inline'.
 */
(function (window, document) {
  "use strict";

  var script = document.currentScript;
  var defaultBase = script && script.src ? new URL(script.src, window.location.href).origin : "";
  var current = null;

  function style(element, rules) {
    Object.keys(rules).forEach(function (name) {
      element.style.setProperty(name, rules[name]);
    });
  }

  function entryUrl(options) {
    var base = (options.baseUrl || defaultBase).replace(/\/+$/, "");
    var query = new URLSearchParams({
      customer: String(options.customerId || ""),
      source: String(options.source || ""),
      expires: String(options.expires || ""),
      signature: String(options.signature || ""),
    });
    return base + "/s/w/" + encodeURIComponent(String(options.link)) + "?" + query.toString();
  }

  function sentinel(onFocus) {
    var guard = document.createElement("span");
    guard.tabIndex = 0;
    guard.setAttribute("data-touchpoints-focus-guard", "");
    guard.addEventListener("focus", onFocus);
    return guard;
  }

  function build(options) {
    var overlay = document.createElement("div");
    overlay.setAttribute("data-touchpoints-widget", "");
    style(overlay, {
      position: "fixed", inset: "0", "z-index": "2147483000", display: "flex",
      "align-items": "center", "justify-content": "center", background: "rgba(15, 23, 42, 0.6)",
    });
    var dialog = document.createElement("div");
    dialog.setAttribute("role", "dialog");
    dialog.setAttribute("aria-modal", "true");
    dialog.setAttribute("aria-label", options.title || "Survey");
    style(dialog, {
      position: "relative", width: "min(100vw, 40rem)", height: "min(100vh, 44rem)",
      background: "#ffffff", "border-radius": "8px", overflow: "hidden",
      "box-shadow": "0 10px 40px rgba(0, 0, 0, 0.35)", display: "flex", "flex-direction": "column",
    });
    var bar = document.createElement("div");
    style(bar, { display: "flex", "justify-content": "flex-end", padding: "4px" });
    var close = document.createElement("button");
    close.type = "button";
    close.setAttribute("aria-label", options.closeLabel || "Close survey");
    close.textContent = "\u00d7";
    style(close, {
      "font-size": "1.75rem", "line-height": "1", width: "44px", height: "44px", border: "0",
      background: "transparent", color: "#1f2937", cursor: "pointer", "border-radius": "4px",
    });
    var frame = document.createElement("iframe");
    frame.title = options.title || "Survey";
    frame.src = entryUrl(options);
    style(frame, { border: "0", width: "100%", "flex-grow": "1" });
    bar.appendChild(close);
    dialog.appendChild(bar);
    dialog.appendChild(frame);
    // Guards on both sides send Tab back into the dialog: focus never leaves the modal.
    overlay.appendChild(sentinel(function () { frame.focus(); }));
    overlay.appendChild(dialog);
    overlay.appendChild(sentinel(function () { close.focus(); }));
    return { overlay: overlay, close: close, frame: frame };
  }

  function hideRest(overlay) {
    var hidden = [];
    Array.prototype.forEach.call(document.body.children, function (element) {
      if (element !== overlay && !element.hasAttribute("inert")) {
        element.setAttribute("inert", "");
        element.setAttribute("aria-hidden", "true");
        hidden.push(element);
      }
    });
    return hidden;
  }

  function onKey(event) {
    if (event.key === "Escape" || event.key === "Esc") {
      event.preventDefault();
      closeWidget();
    }
  }

  function onMessage(event) {
    if (!current || event.source !== current.frame.contentWindow) return;
    if (event.origin !== current.origin) return;
    var kind = event.data && event.data.type;
    if (kind === "touchpoints:close") closeWidget();
    if (kind === "touchpoints:completed" && typeof current.onComplete === "function") {
      current.onComplete();
    }
  }

  function openWidget(options) {
    if (!options || !options.link) throw new Error("Touchpoints.open needs at least {link}");
    closeWidget();
    var parts = build(options);
    document.body.appendChild(parts.overlay);
    current = {
      overlay: parts.overlay,
      frame: parts.frame,
      origin: new URL(parts.frame.src).origin,
      hidden: hideRest(parts.overlay),
      opener: document.activeElement,
      overflow: document.documentElement.style.overflow,
      onClose: options.onClose,
      onComplete: options.onComplete,
    };
    document.documentElement.style.overflow = "hidden";
    parts.close.addEventListener("click", closeWidget);
    parts.overlay.addEventListener("click", function (event) {
      if (event.target === parts.overlay) closeWidget();
    });
    document.addEventListener("keydown", onKey, true);
    window.addEventListener("message", onMessage);
    parts.close.focus();
  }

  function closeWidget() {
    if (!current) return;
    var closing = current;
    current = null;
    document.removeEventListener("keydown", onKey, true);
    window.removeEventListener("message", onMessage);
    closing.hidden.forEach(function (element) {
      element.removeAttribute("inert");
      element.removeAttribute("aria-hidden");
    });
    closing.overlay.remove();
    document.documentElement.style.overflow = closing.overflow;
    if (closing.opener && typeof closing.opener.focus === "function") closing.opener.focus();
    if (typeof closing.onClose === "function") closing.onClose();
  }

  function fromElement(element) {
    var data = element.dataset;
    return {
      link: data.touchpointsLink,
      customerId: data.touchpointsCustomer,
      source: data.touchpointsSource || "",
      expires: data.touchpointsExpires,
      signature: data.touchpointsSignature,
      title: data.touchpointsTitle,
      baseUrl: data.touchpointsBase,
    };
  }

  document.addEventListener("click", function (event) {
    var trigger = event.target.closest && event.target.closest("[data-touchpoints-link]");
    if (!trigger) return;
    event.preventDefault();
    openWidget(fromElement(trigger));
  });

  window.Touchpoints = { open: openWidget, close: closeWidget };
})(window, document);
