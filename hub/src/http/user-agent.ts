/**
 * A short, safe description of the browser a `User-Agent` header names, for the account page's
 * list of sessions ("Firefox 128 on Linux"). The header is whatever the client sends: only a
 * family from the fixed lists below and a major version of at most four digits are kept, never
 * text from the header, so a stored description can hold no markup, no long string and nothing
 * that identifies the person. A minimal classification on purpose, not a UA parser (no
 * dependency, no device models): it tells a person's browsers apart, no more.
 */
export interface BrowserDescription {
  /** A family from {@link BROWSERS}; absent when none matched. */
  browser?: string;
  /** Its major version, digits only. */
  version?: string;
  /** A family from {@link SYSTEMS}. */
  os?: string;
}

/** Longer headers are cut first: the patterns then never run over attacker-sized input. */
export const MAX_USER_AGENT_LENGTH = 512;

/** Most specific first: Edge, Opera, Samsung, WeChat, … all say "Chrome" and "Safari" too. */
const BROWSERS: readonly [name: string, pattern: RegExp][] = [
  ['Edge', /\bEdg(?:e|A|iOS)?\/(\d{1,4})/],
  ['Opera', /\b(?:OPR|OPT|Opera)\/(\d{1,4})/],
  ['Samsung Internet', /\bSamsungBrowser\/(\d{1,4})/],
  ['WeChat', /\bMicroMessenger\/(\d{1,4})/],
  ['Vivaldi', /\bVivaldi\/(\d{1,4})/],
  ['Yandex', /\bYaBrowser\/(\d{1,4})/],
  ['Firefox', /\b(?:Firefox|FxiOS)\/(\d{1,4})/],
  ['Chrome', /\b(?:Chrome|HeadlessChrome|CriOS)\/(\d{1,4})/],
  ['Chromium', /\bChromium\/(\d{1,4})/],
  ['Safari', /\bVersion\/(\d{1,4})(?:\.\d{1,4}){0,3} (?:Mobile\/\w{1,16} )?Safari\//],
  ['Internet Explorer', /\b(?:MSIE |Trident\/\d{1,4}\.\d{1,4}; rv:)(\d{1,4})/],
];

const SYSTEMS: readonly [name: string, pattern: RegExp][] = [
  ['Windows', /\bWindows (?:NT|Phone)\b/],
  ['iOS', /\b(?:iPhone|iPod)\b/],
  ['iPadOS', /\biPad\b/],
  ['Android', /\bAndroid\b/],
  ['ChromeOS', /\bCrOS\b/],
  ['macOS', /\bMac OS X\b|\bMacintosh\b/],
  ['Linux', /\bLinux\b/],
];

const KNOWN_BROWSERS = new Set(BROWSERS.map(([name]) => name));
const KNOWN_SYSTEMS = new Set(SYSTEMS.map(([name]) => name));

export function describeUserAgent(header: string | undefined): BrowserDescription {
  const ua = (header ?? '').slice(0, MAX_USER_AGENT_LENGTH);
  const description: BrowserDescription = {};
  for (const [name, pattern] of BROWSERS) {
    const found = pattern.exec(ua);
    if (found) {
      description.browser = name;
      if (found[1]) description.version = found[1];
      break;
    }
  }
  const os = SYSTEMS.find(([, pattern]) => pattern.test(ua));
  if (os) description.os = os[0];
  return description;
}

/** A description read back from the store, kept only where it is one this module makes (the store is not trusted to hold markup). */
export function checkedDescription(value: unknown): BrowserDescription {
  if (typeof value !== 'object' || value === null) return {};
  const { browser, version, os } = value as Record<string, unknown>;
  const checked: BrowserDescription = {};
  if (typeof browser === 'string' && KNOWN_BROWSERS.has(browser)) {
    checked.browser = browser;
    if (typeof version === 'string' && /^\d{1,4}$/.test(version)) checked.version = version;
  }
  if (typeof os === 'string' && KNOWN_SYSTEMS.has(os)) checked.os = os;
  return checked;
}
