// The small DOM helpers the frame and the console share (bundled into each).

// "%(name)s écrit…" with {name: "Fatou"}: the server's translated strings keep their placeholders.
export function fmt(text, values) {
  return text.replace(/%\((\w+)\)s/g, (_, key) => (values && key in values ? values[key] : ""));
}

// An element with attributes, listeners (on…) and children; text is always set as text.
export function el(tag, attrs, children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of [].concat(children || [])) if (child) node.append(child);
  return node;
}

export function uid() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return Date.now().toString(36) + Math.random().toString(36).slice(2);
}
