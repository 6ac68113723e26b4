/**
 * Writes flattened device tree blobs (version 17) for tests: a node is an object whose values are
 * properties (string: NUL-terminated text, string[]: a string list, number: one big-endian cell,
 * Uint8Array: raw bytes) or child nodes (objects). Written from the devicetree specification's
 * layout, independently of the parser under test.
 */
export interface FdtSpec {
  readonly [name: string]: string | readonly string[] | number | Uint8Array | FdtSpec;
}

const BEGIN_NODE = 1;
const END_NODE = 2;
const PROP = 3;
const END = 9;

function encode(value: string | readonly string[] | number | Uint8Array): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'number') {
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, value);
    return out;
  }
  const list = typeof value === 'string' ? [value] : value;
  return new TextEncoder().encode(list.map((item) => `${item}\0`).join(''));
}

export function buildFdt(root: FdtSpec): Uint8Array {
  const bytes: number[] = [];
  const strings: number[] = [];
  const stringAt = new Map<string, number>();
  const pad = (): void => {
    while (bytes.length % 4) bytes.push(0);
  };
  const cell = (value: number): void => {
    bytes.push((value >>> 24) & 255, (value >>> 16) & 255, (value >>> 8) & 255, value & 255);
  };
  const node = (name: string, spec: FdtSpec): void => {
    cell(BEGIN_NODE);
    bytes.push(...new TextEncoder().encode(name), 0);
    pad();
    const children: [string, FdtSpec][] = [];
    for (const [key, value] of Object.entries(spec)) {
      if (typeof value === 'object' && !(value instanceof Uint8Array) && !Array.isArray(value)) {
        children.push([key, value as FdtSpec]);
        continue;
      }
      if (!stringAt.has(key)) {
        stringAt.set(key, strings.length);
        strings.push(...new TextEncoder().encode(key), 0);
      }
      const data = encode(value as string | readonly string[] | number | Uint8Array);
      cell(PROP);
      cell(data.length);
      cell(stringAt.get(key) as number);
      bytes.push(...data);
      pad();
    }
    for (const [childName, childSpec] of children) node(childName, childSpec);
    cell(END_NODE);
  };
  node('', root);
  cell(END);
  const headerBytes = 40;
  const rsvmap = 16;
  const structAt = headerBytes + rsvmap;
  const stringsAt = structAt + bytes.length;
  const total = stringsAt + strings.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  [0xd00dfeed, total, structAt, stringsAt, headerBytes, 17, 16, 0, strings.length, bytes.length].forEach((value, i) => view.setUint32(i * 4, value));
  out.set(bytes, structAt);
  out.set(strings, stringsAt);
  return out;
}

/** The FIT's bytes followed by external data: the tree padded to 4 bytes, then `data`. */
export function withExternalData(tree: Uint8Array, data: Uint8Array): Uint8Array {
  const base = (tree.length + 3) & ~3;
  const out = new Uint8Array(base + data.length);
  out.set(tree);
  out.set(data, base);
  return out;
}
