import { Keys } from '../store/keys.js';
import { isValidUsername, normalUsername } from './username.js';

describe('usernames', () => {
  it('letters and digits of any script, with . _ -: a Chinese forum\'s 张三 is a username (before, import skipped it)', () => {
    for (const name of ['alice', 'bob.smith', 'x_y-z', '张三', '小明2024', 'Zoë', 'Ренат', 'Σωκράτης', 'たなか', '김민수', 'ab']) {
      expect([name, isValidUsername(normalUsername(name))]).toEqual([name, true]);
    }
  });

  it('no spaces, no @, no control or symbol characters, 2 to 64 characters, no leading combining mark', () => {
    for (const name of ['John Smith', 'a@b', 'a', 'x'.repeat(65), 'tab\there', 'emoji😀', '<b>', 'a\u0000b', '\u0301abc', 'a/b', 'a%b']) {
      expect([name, isValidUsername(normalUsername(name))]).toEqual([name, false]);
    }
    expect(isValidUsername('长'.repeat(64))).toBe(true);
  });

  it('Latin, Cyrillic and Greek letters in one name are refused (look-alike letters: Cyrillic а in "аlice")', () => {
    expect(isValidUsername('\u0430lice')).toBe(false); // Cyrillic а + Latin lice
    expect(isValidUsername('p\u03bfst')).toBe(false); // Greek ο
    expect(isValidUsername('张三abc')).toBe(true); // Han with Latin: no look-alikes
    expect(isValidUsername('たなか_tanaka')).toBe(true);
    expect(isValidUsername('김민수kim')).toBe(true);
    expect(isValidUsername('Ренат2024')).toBe(true); // ASCII digits belong to every script
    // Other scripts' look-alikes (a review): Armenian օ, Cherokee Ꭺ, Lisu ꓮ, a Bengali zero.
    for (const name of ['g\u0585\u0585gle', '\u13AAdmin', '\uA4EEdmin', 'b\u09E6b', 'ab\u05D0']) expect([name, isValidUsername(name)]).toEqual([name, false]);
  });

  it('nothing invisible, no compatibility forms, no pile of combining marks (a review: "alice" + U+034F passed and looked like alice)', () => {
    for (const name of ['alice\u034F', 'alice\uFE0F', 'alice\u3164', 'alice\u115F', 'alice\u17B4', 'alice\u180B', 'al\u200Bice', 'ｂｏｂ', '\u{1D41A}\u0440\u0440\u{1D425}\u0435', 'ﬁsh', 'a\u0301\u0301\u0301\u0301\u0301b']) {
      expect([name, isValidUsername(normalUsername(name))]).toEqual([name, false]);
    }
    expect(isValidUsername(normalUsername('Zoe\u0308'))).toBe(true); // composed to ë
  });

  it('no mark that draws nothing on its letter (an attacker review: "ali\\u0307ce" showed as alice in Chromium, "admi\\u0307n" as admin)', () => {
    for (const name of ['ali\u0307ce', 'admi\u0307n', 'j\u0307oe', 'ali\u0323\u0307ce', 'e\u0301\u0301ve', 'zhangsan\u0307\u0307']) {
      expect([name, isValidUsername(normalUsername(name))]).toEqual([name, false]);
    }
    // Marks that show: Vietnamese, a dot below on i, a dot above on another letter (Polish ż).
    for (const name of ['Nguyễn', 'Phạm', 'Lịch', 'ża\u0307ba', 'Hoa\u0300ng']) expect([name, isValidUsername(normalUsername(name))]).toEqual([name, true]);
  });

  it('names compare in NFKC, case-folded: full-width and differently composed forms are the same name; ASCII keys as before', () => {
    const keys = new Keys('t:');
    expect(keys.userByName('ｂｏｂ')).toBe(keys.userByName('bob'));
    expect(keys.userByName('Bob')).toBe('t:user-name:bob');
    expect(keys.userByName(normalUsername('Zoe\u0308'))).toBe(keys.userByName('Zoë'));
    expect(normalUsername('  Zoe\u0308 ')).toBe('Zoë');
  });
});
