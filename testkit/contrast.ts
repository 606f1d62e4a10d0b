import type { Page } from 'playwright-core';

/** A text that fails WCAG 2.1 AA contrast against what is drawn behind it. */
export interface LowContrast {
  text: string;
  ratio: number;
  color: string;
  background: string;
}

/**
 * WCAG 2.1 AA contrast of every visible text on the page, shadow roots included: 4.5:1, or 3:1 for large
 * text (24 px, or 18.66 px bold). The background is the first opaque one up the tree (through shadow hosts);
 * text over an image or a gradient is not judged. A string, not a function: the page has none of the
 * helpers tsx would wrap a function in.
 */
export async function lowContrastTexts(page: Page): Promise<LowContrast[]> {
  return (await page.evaluate(`(() => {
    const parse = (c) => {
      const m = c.match(/rgba?\\(([^)]+)\\)/);
      if (!m) return undefined;
      const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
      return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
    };
    const lum = (c) => {
      const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
      return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
    };
    const parentOf = (el) => el.parentElement || (el.getRootNode() && el.getRootNode().host) || null;
    const backgroundOf = (el) => {
      for (let e = el; e; e = parentOf(e)) {
        const s = getComputedStyle(e);
        if (s.backgroundImage && s.backgroundImage !== 'none') return undefined;
        const c = parse(s.backgroundColor);
        if (c && c.a >= 0.99) return c;
      }
      return { r: 255, g: 255, b: 255, a: 1 };
    };
    const out = [];
    const visit = (root) => {
      for (const el of root.querySelectorAll('*')) {
        if (el.shadowRoot) visit(el.shadowRoot);
        const own = [...el.childNodes].filter((n) => n.nodeType === 3 && n.textContent.trim()).map((n) => n.textContent.trim()).join(' ');
        if (!own) continue;
        const r = el.getBoundingClientRect();
        const s = getComputedStyle(el);
        if (r.width === 0 || r.height === 0 || s.visibility === 'hidden' || Number(s.opacity) === 0) continue;
        const fg = parse(s.color);
        const bg = backgroundOf(el);
        if (!fg || !bg) continue;
        const a = fg.a;
        const mixed = { r: fg.r * a + bg.r * (1 - a), g: fg.g * a + bg.g * (1 - a), b: fg.b * a + bg.b * (1 - a) };
        const l1 = lum(mixed), l2 = lum(bg);
        const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
        const size = parseFloat(s.fontSize);
        const bold = Number(s.fontWeight) >= 700;
        const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
        if (ratio + 1e-6 < need)
          out.push({ text: own.slice(0, 60), ratio: Math.round(ratio * 100) / 100, color: s.color, background: 'rgb(' + [bg.r, bg.g, bg.b].join(', ') + ')' });
      }
    };
    visit(document);
    return out;
  })()`)) as LowContrast[];
}
