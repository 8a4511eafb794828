/** UTF-8's byte-order mark, as a file saved "UTF-8 with BOM" starts. */
const BYTE_ORDER_MARK = [0xef, 0xbb, 0xbf] as const;

export interface NoteAnswer {
  /** The answer's text (bytes as Latin-1, trimmed), without the byte-order marks before it. */
  text: string;
  /** How many UTF-8 byte-order marks came before it. */
  byteOrderMarks: number;
}

/**
 * A note handler's answer, as the hub judges it (`1` is "done"). A PHP file saved with a UTF-8
 * byte-order mark (Windows Notepad's "UTF-8"; Discuz!'s `config/config_ucenter.php` is the file
 * admins edit by hand) prints those three bytes before anything else, once per such file the
 * handler includes: Discuz!'s api/uc.php then answers `\xEF\xBB\xBF1` after doing what the note
 * asked. They are dropped here, with the whitespace around them. Before, the delivery worker read
 * such an answer as a refusal and sent the note again and again (an `updatepw` gave the member a
 * new random forum password at each try, signing them out of the forum each time), while
 * `ucenter apps test`, reading the answer as UTF-8 text (which drops one mark), said OK.
 */
export function noteAnswer(bytes: Uint8Array): NoteAnswer {
  let at = 0;
  let byteOrderMarks = 0;
  for (;;) {
    while (at < bytes.length && isSpace(bytes[at]!)) at += 1;
    if (!BYTE_ORDER_MARK.every((byte, index) => bytes[at + index] === byte)) break;
    at += BYTE_ORDER_MARK.length;
    byteOrderMarks += 1;
  }
  return { text: Buffer.from(bytes.subarray(at)).toString('latin1').trim(), byteOrderMarks };
}

/** PHP trim()'s whitespace: space, tab, newline, carriage return, NUL, vertical tab. */
function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d || byte === 0x00 || byte === 0x0b;
}
