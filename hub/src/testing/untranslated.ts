import { Parser } from 'htmlparser2';

/** Attributes a reader sees or hears (tooltips, placeholders, image text, screen readers). */
const VISIBLE_ATTRIBUTES = new Set(['title', 'placeholder', 'alt', 'aria-label', 'aria-description', 'label']);
/** `<input type=…>` whose `value` is the button's text. */
const BUTTON_INPUTS = new Set(['submit', 'button', 'reset']);
/** Elements whose text is code, style or a name typed as is (`<code>SMTP_URL</code>`), not prose. */
const RAW_TEXT = new Set(['script', 'style', 'code', 'kbd', 'samp']);

/** Text in a template that a reader would see in one language only. */
export interface Untranslated {
  line: number;
  text: string;
  where: string;
}

/** Something a reader could read: a letter of any script (digits, punctuation and symbols are fine). */
const READABLE = /\p{L}/u;
/** An HTML character reference (`&hellip;`, `&#160;`): punctuation, not words. */
const ENTITY = /&(?:[a-z]+|#\d+|#x[\da-f]+);/gi;
/** Stands in for a `{{ … }}` expression: its output comes from data or from `t()`. */
const EXPRESSION = '\u0001';

/**
 * A string literal inside a nunjucks expression or tag that reads as prose: it has a letter
 * and a space, is one capitalised word, or is written in Han characters ("Something went wrong",
 * "Disable", "删除"). Identifiers, names of algorithms, template paths and test ids (`login`,
 * `RS256`, `EdDSA`, `hub/layout.njk`) are not prose.
 */
function isProse(literal: string): boolean {
  const text = literal.trim();
  return READABLE.test(text) && (/\s/.test(text) || /^\p{Lu}\p{Ll}+\p{P}*$/u.test(text) || /\p{Script=Han}/u.test(text));
}

/** The string literals of a nunjucks expression, without the `t('key'` keys (which are keys, not text). */
function proseLiterals(expression: string): string[] {
  const withoutKeys = expression.replace(/\bt\(\s*(['"])(?:(?!\1).)*\1/g, 't(');
  const found: string[] = [];
  for (const match of withoutKeys.matchAll(/(['"])((?:(?!\1)[^\\]|\\.)*)\1/g)) {
    if (isProse(match[2]!)) found.push(match[2]!);
  }
  return found;
}

/** The line of `offset` in `source`. */
function lineAt(source: string, offset: number): number {
  return source.slice(0, offset).split('\n').length;
}

/**
 * Every piece of literal, untranslated text in a nunjucks HTML template: text nodes and
 * visible attributes that are not wholly `{{ … }}` output, and prose string literals inside
 * `{{ … }}` / `{% … %}` (`{{ title or "Oops" }}`). `allowed` lists exact texts that are the
 * same in every language (a brand name).
 */
export function findUntranslated(source: string, allowed: readonly string[] = []): Untranslated[] {
  const found: Untranslated[] = [];
  const allow = new Set(allowed);
  // Comments say nothing to readers.
  let text = source.replace(/\{#[\s\S]*?#\}/g, (comment) => comment.replace(/[^\n]/g, ' '));
  // Literals inside expressions and tags, then the tags themselves: the same length is kept so
  // offsets (and so lines) still match the source.
  text = text.replace(/\{\{([\s\S]*?)\}\}|\{%([\s\S]*?)%\}/g, (whole, expression: string | undefined, tag: string | undefined, offset: number) => {
    for (const literal of proseLiterals(expression ?? tag ?? '')) {
      if (!allow.has(literal)) found.push({ line: lineAt(source, offset), text: literal, where: 'string literal in a template expression' });
    }
    const filler = whole.replace(/[^\n]/g, ' ');
    return expression !== undefined ? EXPRESSION + filler.slice(1) : filler;
  });

  const check = (value: string, offset: number, where: string): void => {
    const readable = value.replace(ENTITY, ' ').replaceAll(EXPRESSION, ' ').replace(/\s+/g, ' ').trim();
    if (!readable || !READABLE.test(readable) || allow.has(readable)) return;
    found.push({ line: lineAt(text, offset + Math.max(0, value.search(/[^\s\u0001]/))), text: readable, where });
  };

  const open: string[] = [];
  const parser: Parser = new Parser(
    {
      onopentag(name, attributes) {
        open.push(name);
        for (const [attribute, value] of Object.entries(attributes)) {
          const visible = VISIBLE_ATTRIBUTES.has(attribute) || (attribute === 'value' && name === 'input' && BUTTON_INPUTS.has((attributes.type ?? '').toLowerCase()));
          if (visible) check(value, parser.startIndex, `${name}[${attribute}]`);
        }
      },
      onclosetag() {
        open.pop();
      },
      ontext(value) {
        if (!RAW_TEXT.has(open.at(-1) ?? '')) check(value, parser.startIndex, 'text');
      },
    },
    { decodeEntities: false, lowerCaseAttributeNames: true },
  );
  parser.write(text);
  parser.end();
  return found.sort((a, b) => a.line - b.line);
}
