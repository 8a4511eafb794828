import { noteAnswer } from './note-answer.js';

const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'latin1'));
const BOM = '\xef\xbb\xbf';

describe('noteAnswer: a note handler\'s answer as the hub judges it', () => {
  it('trims as PHP trims', () => {
    expect(noteAnswer(bytes(' 1\r\n'))).toEqual({ text: '1', byteOrderMarks: 0 });
  });
  it('drops the UTF-8 byte-order marks printed before it (one per included file saved with one)', () => {
    expect(noteAnswer(bytes(`${BOM}1`))).toEqual({ text: '1', byteOrderMarks: 1 });
    expect(noteAnswer(bytes(`${BOM}\n${BOM}1`))).toEqual({ text: '1', byteOrderMarks: 2 });
  });
  it('keeps a byte-order mark after the answer\'s start, and anything else, as it is', () => {
    expect(noteAnswer(bytes(`1${BOM}`)).text).toBe(`1${BOM}`);
    expect(noteAnswer(bytes(`${BOM}Authracation has expiried`)).text).toBe('Authracation has expiried');
    expect(noteAnswer(bytes('\xef\xbb1')).text).toBe('\xef\xbb1');
  });
});
