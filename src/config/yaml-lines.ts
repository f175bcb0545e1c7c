import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

/**
 * The line of a setting in a parsed YAML file, by its path (`['kafka',
 * 'acks']`): the line of its key in a mapping, of its item in a sequence; as
 * deep as the path exists in the file (a missing setting: its parent's line).
 * Undefined when not even the first step is there.
 */
export function yamlLineFinder(doc: Document, lines: LineCounter): (path: readonly string[]) => number | undefined {
  return (path) => {
    let node: unknown = doc.contents;
    let line: number | undefined;
    for (const step of path) {
      let at: Node | null | undefined;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === step);
        at = pair?.key as Node | undefined;
        node = pair?.value;
      } else if (isSeq(node)) {
        at = node.items[Number(step)] as Node | undefined;
        node = at;
      } else {
        break;
      }
      if (!at?.range) break;
      line = lines.linePos(at.range[0]).line;
    }
    return line;
  };
}
