// Texts of the page whose contrast with their background is under WCAG AA (4.5:1).
() => {
  const rgb = (c) => c.match(/[\d.]+/g).slice(0, 3).map(Number);
  const channel = (v) => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  };
  const lum = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = (e) => {
    for (; e; e = e.parentElement) {
      const c = getComputedStyle(e).backgroundColor;
      if (!c.startsWith("rgba(0, 0, 0, 0)") && c !== "transparent") return c;
    }
    return "rgb(255, 255, 255)";
  };
  const texts = "h1, h3, .value, .meta span, .owner, .badge, nav a, .sub, label, .change";
  const worst = [];
  for (const e of document.querySelectorAll(texts)) {
    if (!e.offsetParent || !e.textContent.trim()) continue;
    const a = lum(rgb(getComputedStyle(e).color));
    const b = lum(rgb(background(e)));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) worst.push([e.className || e.tagName, ratio.toFixed(2)]);
  }
  return worst;
}
