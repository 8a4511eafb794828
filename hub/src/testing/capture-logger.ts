import type { Logger } from '../logger.js';

export interface LoggedLine {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

/** A logger that keeps every line it is given, for a test to read. */
export function captureLogger(): { lines: LoggedLine[]; logger: Logger } {
  const lines: LoggedLine[] = [];
  const capture = (level: string) => (message: string, fields: Record<string, unknown> = {}) => void lines.push({ level, message, fields });
  return { lines, logger: { error: capture('error'), warn: capture('warn'), info: capture('info'), debug: capture('debug') } };
}
