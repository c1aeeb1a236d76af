/** `WWW-Authenticate` parsing (RFC 7235): several challenges, params with quoted values and escapes. */

export interface Challenge {
  /** lowercase: `bearer`, `basic`, … */
  scheme: string;
  /** lowercase keys: realm, service, scope, error, … */
  params: Record<string, string>;
}

export function parseWwwAuthenticate(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  if (Array.isArray(header)) return header.flatMap((h) => parseWwwAuthenticate(h));
  const s = header;
  const challenges: Challenge[] = [];
  let current: Challenge | undefined;
  let pos = 0;
  const skip = (chars: RegExp): void => {
    while (pos < s.length && chars.test(s[pos]!)) pos++;
  };
  const token = (): string => {
    const start = pos;
    while (pos < s.length && !/[\s,=]/.test(s[pos]!)) pos++;
    return s.slice(start, pos);
  };
  const quoted = (): string => {
    pos++; // opening quote
    let out = '';
    while (pos < s.length && s[pos] !== '"') {
      if (s[pos] === '\\' && pos + 1 < s.length) pos++;
      out += s[pos++];
    }
    pos++; // closing quote
    return out;
  };
  while (pos < s.length) {
    skip(/[\s,]/);
    if (pos >= s.length) break;
    const name = token();
    if (name === '') {
      pos++; // a stray "=": skip it
      continue;
    }
    const afterName = pos;
    skip(/\s/);
    if (s[pos] === '=' && current) {
      pos++;
      // token68 padding ("abc==") rather than a parameter
      if (s[pos] === '=' || pos >= s.length || s[pos] === ',') {
        skip(/=/);
        continue;
      }
      skip(/\s/);
      const value = s[pos] === '"' ? quoted() : token();
      current.params[name.toLowerCase()] = value;
      continue;
    }
    pos = afterName;
    current = { scheme: name.toLowerCase(), params: {} };
    challenges.push(current);
  }
  return challenges;
}
