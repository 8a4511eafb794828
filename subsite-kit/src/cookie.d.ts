// The `cookie` package (0.7, a dependency of express-session and cookie-parser) ships no types.
declare module 'cookie' {
  export function parse(header: string, options?: { decode?(value: string): string }): Record<string, string>;
}
