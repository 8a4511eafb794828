import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';

/** The WCAG 2.0–2.2 A and AA rules of axe-core (its tags), the level the hub's pages are held to. */
const WCAG_AA_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'];

/** One axe rule broken on a page: its id, its help text and the elements (CSS selectors) that break it. */
export interface Violation {
  rule: string;
  help: string;
  targets: string[];
}

/**
 * Checks pages as people with different needs meet them: axe-core's WCAG 2.2 AA rules
 * (including text contrast and 24 px targets), field borders' contrast, reflow at 320 CSS px,
 * buttons' edges in forced colors, where the keyboard focus is.
 */
export class AccessibilityCheck {
  constructor(readonly page: Page) {}

  /** Every WCAG A/AA rule axe-core finds broken on the page as it is now (an empty list when none). */
  async violations(): Promise<Violation[]> {
    const results = await new AxeBuilder({ page: this.page }).withTags(WCAG_AA_TAGS).analyze();
    return results.violations.map((violation) => ({
      rule: violation.id,
      help: violation.help,
      targets: violation.nodes.map((node) => node.target.join(' ')),
    }));
  }

  /**
   * How far the page scrolls sideways at a viewport `width` CSS px wide (WCAG 1.4.10 reflow: at
   * 320 px nothing may need it); 0 when it does not. The viewport is put back afterwards.
   */
  async overflowAt(width: number): Promise<number> {
    const size = this.page.viewportSize();
    await this.page.setViewportSize({ width, height: 640 });
    const overflow = await this.page.evaluate(() => Math.max(0, document.documentElement.scrollWidth - document.documentElement.clientWidth));
    if (size) await this.page.setViewportSize(size);
    return overflow;
  }

  /**
   * Form fields whose border is under 3:1 against what is behind them (WCAG 1.4.11: the border
   * is what shows where a field is), as "test id or name: ratio"; empty when all are clear.
   */
  async weakFieldBorders(): Promise<string[]> {
    return this.page.evaluate(() => {
      const rgb = (color: string) => (color.match(/[\d.]+/g) ?? []).map(Number);
      const luminance = ([r, g, b]: number[]) => {
        const [R, G, B] = [r!, g!, b!].map((c) => (c / 255 <= 0.03928 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4));
        return 0.2126 * R! + 0.7152 * G! + 0.0722 * B!;
      };
      const background = (el: Element | null): number[] => {
        for (let node = el; node; node = node.parentElement) {
          const color = rgb(getComputedStyle(node).backgroundColor);
          if (color.length === 3 || color[3] !== 0) return color.slice(0, 3);
        }
        return [255, 255, 255];
      };
      const weak: string[] = [];
      for (const field of Array.from(document.querySelectorAll('input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea'))) {
        const style = getComputedStyle(field);
        if (style.display === 'none' || style.visibility === 'hidden' || parseFloat(style.borderTopWidth) === 0) continue;
        const [a, b] = [luminance(rgb(style.borderTopColor)), luminance(background(field.parentElement))];
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        if (ratio < 3) weak.push(`${field.getAttribute('data-testid') ?? field.getAttribute('name')}: ${ratio.toFixed(2)}`);
      }
      return weak;
    });
  }

  /**
   * Buttons (and links drawn as buttons) that have no edge in forced colors (Windows contrast
   * themes, `forced-colors: active`): the theme drops their background, so without a border they
   * read as bare text. As "test id or text"; empty when every one keeps its edge.
   */
  async edgelessButtonsInForcedColors(): Promise<string[]> {
    await this.page.emulateMedia({ forcedColors: 'active' });
    try {
      return await this.page.evaluate(() => Array.from(document.querySelectorAll('button, .button'))
        .filter((el) => {
          const style = getComputedStyle(el);
          if (el.closest('[hidden]') || style.display === 'none' || style.visibility === 'hidden' || el.classList.contains('link')) return false;
          return style.borderTopStyle === 'none' || parseFloat(style.borderTopWidth) === 0;
        })
        .map((el) => el.getAttribute('data-testid') ?? (el.textContent ?? '').trim()));
    } finally {
      await this.page.emulateMedia({ forcedColors: 'none' });
    }
  }

  /** Whether the focused element shows where the focus is (an outline or a box shadow; WCAG 2.4.7). */
  async focusVisible(): Promise<boolean> {
    return this.page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return true;
      const style = getComputedStyle(el);
      return (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
    });
  }

  /** The test id (else tag name) of the element that has the keyboard focus. */
  async focused(): Promise<string> {
    return this.page.evaluate(() => {
      const el = document.activeElement;
      return el?.getAttribute('data-testid') ?? el?.tagName.toLowerCase() ?? '';
    });
  }
}
