// A strict parser for the small XML subset AWS Query APIs answer with (Workers have no DOMParser).
// Pure; no I/O; no clock. Elements, attributes, text and the five predefined + numeric entities; nothing else.
//
// Refused outright (AWS never sends them, and each is a classic parser-confusion vector): DOCTYPE and entity
// declarations, CDATA sections, comments, processing instructions other than a leading XML declaration,
// namespace prefixes on elements, mixed content (text beside child elements), raw control characters,
// unknown entities, bare `&`, and anything after the root element. https://www.w3.org/TR/xml/

export interface XmlElement {
  readonly name: string;
  readonly attributes: ReadonlyMap<string, string>;
  readonly children: readonly XmlElement[];
  /** The decoded text directly inside this element (empty when it has children: mixed content is refused). */
  readonly text: string;
}

/** Thrown on any input outside the subset. The message names the rule broken, never the input. */
export class XmlSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "XmlSyntaxError";
  }
}

interface MutableElement {
  name: string;
  attributes: Map<string, string>;
  children: MutableElement[];
  text: string;
}

const XML_DECLARATION = /^\s*<\?xml\s[^<>?]*\?>/y;
const ELEMENT_NAME = /[A-Za-z_][A-Za-z0-9_.-]*/y;
const ATTRIBUTE = /\s+([A-Za-z_][A-Za-z0-9_.:-]*)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')/y;
const TAG_END = /\s*(\/?)>/y;
const CLOSE_TAG_END = /\s*>/y;
const ENTITY = /&(?:(amp|lt|gt|quot|apos)|#([0-9]{1,7})|#x([0-9A-Fa-f]{1,6}));/y;
// XML 1.0 `Char` excludes C0 controls other than tab/LF/CR, U+FFFE/U+FFFF; with the `u` flag a surrogate
// range only matches unpaired surrogates.
const FORBIDDEN_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDFFF]/u;
const NAMED_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function isXmlChar(codePoint: number): boolean {
  return (
    codePoint === 0x9 ||
    codePoint === 0xa ||
    codePoint === 0xd ||
    (codePoint >= 0x20 && codePoint <= 0xd7ff) ||
    (codePoint >= 0xe000 && codePoint <= 0xfffd) ||
    (codePoint >= 0x10000 && codePoint <= 0x10ffff)
  );
}

/** Decode `&amp;`-style references in raw text; any other `&` is an error. */
function decodeEntities(raw: string): string {
  let out = "";
  let index = 0;
  for (;;) {
    const amp = raw.indexOf("&", index);
    if (amp === -1) return out + raw.slice(index);
    out += raw.slice(index, amp);
    ENTITY.lastIndex = amp;
    const match = ENTITY.exec(raw);
    if (match === null) throw new XmlSyntaxError("bad entity reference");
    const [whole, named, decimal, hex] = match;
    if (named !== undefined) {
      out += NAMED_ENTITIES[named] ?? "";
    } else {
      const codePoint = decimal !== undefined ? Number.parseInt(decimal, 10) : Number.parseInt(hex ?? "", 16);
      if (!isXmlChar(codePoint)) throw new XmlSyntaxError("character reference outside XML Char");
      out += String.fromCodePoint(codePoint);
    }
    index = amp + whole.length;
  }
}

function matchAt(pattern: RegExp, input: string, position: number): RegExpExecArray | null {
  pattern.lastIndex = position;
  return pattern.exec(input);
}

function freeze(element: MutableElement): XmlElement {
  return {
    name: element.name,
    attributes: element.attributes,
    children: element.children.map(freeze),
    text: element.text,
  };
}

/** Parse one document. Throws `XmlSyntaxError` on anything outside the subset, or nesting deeper than `maxDepth`. */
export function parseXml(input: string, maxDepth: number): XmlElement {
  if (FORBIDDEN_CHAR.test(input)) throw new XmlSyntaxError("forbidden character");
  let position = matchAt(XML_DECLARATION, input, 0)?.[0].length ?? 0;
  const stack: MutableElement[] = [];
  let root: MutableElement | undefined;

  for (;;) {
    const lt = input.indexOf("<", position);
    const text = input.slice(position, lt === -1 ? input.length : lt);
    const current = stack.at(-1);
    if (current === undefined) {
      // Outside the root only whitespace may appear.
      if (text.trim() !== "") throw new XmlSyntaxError("text outside the root element");
    } else {
      current.text += decodeEntities(text);
    }
    if (lt === -1) break;
    position = lt;

    const next = input[position + 1];
    if (next === "!" || next === "?") throw new XmlSyntaxError("comment, CDATA, DOCTYPE or processing instruction");

    if (next === "/") {
      const name = matchAt(ELEMENT_NAME, input, position + 2)?.[0];
      const open = stack.pop();
      if (name === undefined || open === undefined || open.name !== name)
        throw new XmlSyntaxError("mismatched end tag");
      const end = matchAt(CLOSE_TAG_END, input, position + 2 + name.length);
      if (end === null) throw new XmlSyntaxError("malformed end tag");
      position += 2 + name.length + end[0].length;
      if (open.children.length > 0) {
        if (open.text.trim() !== "") throw new XmlSyntaxError("mixed content");
        open.text = "";
      }
      continue;
    }

    if (root !== undefined && stack.length === 0) throw new XmlSyntaxError("content after the root element");
    const name = matchAt(ELEMENT_NAME, input, position + 1)?.[0];
    if (name === undefined) throw new XmlSyntaxError("malformed start tag");
    position += 1 + name.length;
    const attributes = new Map<string, string>();
    for (
      let attribute = matchAt(ATTRIBUTE, input, position);
      attribute !== null;
      attribute = matchAt(ATTRIBUTE, input, position)
    ) {
      const [whole, attributeName = "", doubleQuoted, singleQuoted] = attribute;
      if (attributes.has(attributeName)) throw new XmlSyntaxError("duplicate attribute");
      attributes.set(attributeName, decodeEntities(doubleQuoted ?? singleQuoted ?? ""));
      position += whole.length;
    }
    const end = matchAt(TAG_END, input, position);
    if (end === null) throw new XmlSyntaxError("malformed start tag");
    position += end[0].length;

    const element: MutableElement = { name, attributes, children: [], text: "" };
    const parent = stack.at(-1);
    if (parent === undefined) root = element;
    else parent.children.push(element);
    if (end[1] !== "/") {
      if (stack.length >= maxDepth) throw new XmlSyntaxError("nesting too deep");
      stack.push(element);
    }
  }

  if (root === undefined) throw new XmlSyntaxError("no root element");
  if (stack.length > 0) throw new XmlSyntaxError("unclosed element");
  return freeze(root);
}
