// Targeted reads of small YAML files (compose, Prometheus, Grafana provisioning) without a YAML
// parser, which is no declared dependency: a block of lines by its header, and `key: value` scalars.

/** A line without its comment (a `#` at the start or after a space, outside quotes is all these files need). */
function uncommented(line: string): string {
  return line.replace(/(^|\s)#.*$/, '').trimEnd();
}

const indentOf = (line: string) => line.length - line.trimStart().length;

/**
 * The block that starts at the first line matching `header`: that line and every
 * following line indented deeper, blank and comment lines kept out. Empty when no line matches.
 */
export function yamlBlock(lines: readonly string[], header: RegExp): string[] {
  const code = lines.map(uncommented);
  const start = code.findIndex((line) => header.test(line));
  if (start < 0) return [];
  const startLine = code[start] ?? '';
  // A list item (`- key: v`) owns the lines indented past its dash.
  const own = indentOf(startLine) + (/^\s*- /.test(startLine) ? 1 : 0);
  const out = [startLine];
  for (const line of code.slice(start + 1)) {
    if (line.trim() === '') continue;
    if (indentOf(line) <= own) break;
    out.push(line);
  }
  return out;
}

/** Lines of a text, for yamlBlock. */
export function yamlLines(text: string): string[] {
  return text.split(/\r?\n/);
}

/** The values of every `key: value` line (a list item's `- key: value` too), quotes taken off. */
export function yamlValues(lines: readonly string[], key: string): string[] {
  const out: string[] = [];
  const pattern = new RegExp(`^\\s*(?:-\\s+)?${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\s*(.*)$`);
  for (const line of lines) {
    const match = pattern.exec(uncommented(line));
    if (match) out.push(unquote((match[1] ?? '').trim()));
  }
  return out;
}

/** The one value of `key` in these lines; throws when there is none or several. */
export function yamlValue(lines: readonly string[], key: string): string {
  const values = yamlValues(lines, key);
  if (values.length !== 1) throw new Error(`expected one "${key}:", found ${values.length} in:\n${lines.join('\n')}`);
  return values[0] ?? '';
}

/** The items of a block list (`- item` lines), quotes taken off. */
export function yamlListItems(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    const match = /^\s*-\s+(.+)$/.exec(uncommented(line));
    if (match && !/^[A-Za-z_][\w-]*:(\s|$)/.test(match[1] ?? '')) out.push(unquote((match[1] ?? '').trim()));
  }
  return out;
}

/** A flow list's items (`[a, "b"]`), quotes taken off; a plain scalar as a list of one. */
export function yamlFlowList(value: string): string[] {
  const inner = /^\[(.*)\]$/.exec(value.trim());
  if (!inner) return value.trim() === '' ? [] : [unquote(value.trim())];
  return (inner[1] ?? '')
    .split(',')
    .map((item) => unquote(item.trim()))
    .filter((item) => item !== '');
}

function unquote(value: string): string {
  return /^(['"]).*\1$/.test(value) ? value.slice(1, -1) : value;
}
