import { describe, expect, it } from "vitest";
import { parseXml, XmlSyntaxError } from "../../src/aws/xml.ts";

describe("parseXml", () => {
  it("builds elements, attributes (both quotes, entities decoded) and text", () => {
    const root = parseXml(
      `<?xml version="1.0"?>\n<R a="1 &amp; 2" b='x&quot;y'>\n  <C>t&#233;&#x1F680;</C>\n  <E/>\n</R>\n`,
      4,
    );
    expect(root.name).toBe("R");
    expect(Object.fromEntries(root.attributes)).toEqual({ a: "1 & 2", b: 'x"y' });
    expect(root.text).toBe("");
    expect(root.children.map((child) => [child.name, child.text, child.children.length])).toEqual([
      ["C", "té🚀", 0],
      ["E", "", 0],
    ]);
  });

  it("accepts a self-closing root and whitespace around it", () => {
    expect(parseXml("  <R/>  ", 1).name).toBe("R");
  });

  it("allows nesting up to maxDepth and refuses one more", () => {
    expect(parseXml("<a><b><c/></b></a>", 2).children[0]?.children[0]?.name).toBe("c");
    expect(() => parseXml("<a><b><c></c></b></a>", 2)).toThrow(XmlSyntaxError);
  });

  it.each([
    ["declaration after content", "<R/><?xml version='1.0'?>"],
    ["stylesheet instruction", "<?xml-stylesheet href='x'?><R/>"],
    ["end tag with attributes", "<R></R a='1'>"],
    ["stray end tag", "</R>"],
    ["attribute without whitespace", "<R a='1'b='2'/>"],
    ["< in attribute", "<R a='<'/>"],
    ["name starting with a digit", "<1R/>"],
    ["text only", "hello"],
  ])("refuses %s", (_label, xml) => {
    expect(() => parseXml(xml, 8)).toThrow(XmlSyntaxError);
  });

  it("names the rule broken, never the input", () => {
    try {
      parseXml("<R>secret&bogus;</R>", 4);
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain("secret");
    }
  });
});
