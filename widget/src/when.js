// Times as a person reads them: « il y a 5 min » in the page's language, the exact time (in
// their own time zone) on hover. Times from the server are UTC; one without a zone is UTC too.

export function parse(iso) {
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : iso + "Z");
}

export function exact(iso, lang, timeZone) {
  const options = { dateStyle: "full", timeStyle: "short" };
  try {
    return new Intl.DateTimeFormat(lang, timeZone ? { ...options, timeZone } : options).format(parse(iso));
  } catch (e) { // an unknown zone name: the browser's own
    return new Intl.DateTimeFormat(lang, options).format(parse(iso));
  }
}

export function relative(iso, lang, timeZone, now = Date.now()) {
  const seconds = Math.round((parse(iso).getTime() - now) / 1000);
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: "auto", style: "short" });
  const past = Math.abs(seconds);
  if (past < 45) return rtf.format(0, "second");
  if (past < 3600) return rtf.format(Math.round(seconds / 60), "minute");
  if (past < 86400) return rtf.format(Math.round(seconds / 3600), "hour");
  if (past < 7 * 86400) return rtf.format(Math.round(seconds / 86400), "day");
  const options = { dateStyle: "medium" };
  try {
    return new Intl.DateTimeFormat(lang, timeZone ? { ...options, timeZone } : options).format(parse(iso));
  } catch (e) {
    return new Intl.DateTimeFormat(lang, options).format(parse(iso));
  }
}

// A <time> element that says « il y a 5 min » and the exact moment on hover; `refresh` keeps
// every such element of the page current.
export function timeElement(iso, lang, timeZone) {
  const node = document.createElement("time");
  node.dateTime = parse(iso).toISOString();
  node.dataset.relative = iso;
  node.title = exact(iso, lang, timeZone);
  node.textContent = relative(iso, lang, timeZone);
  return node;
}

export function refresh(root, lang, timeZone) {
  for (const node of root.querySelectorAll("time[data-relative]")) node.textContent = relative(node.dataset.relative, lang, timeZone);
}
