/**
 * @module The compiler's `.d` file made fit for the client (distcc-protocol.md §3.5): the temp
 * object path becomes the target, and the fake root disappears from every path. Works on bytes
 * (as latin1 text) so paths that are not UTF-8 survive.
 */

const asLatin1 = (text: string) => Buffer.from(text, "utf8").toString("latin1");

export function cleanDependencyFile(contents: Uint8Array, objectFile: string, target: string, root: string): Uint8Array {
  const text = Buffer.from(contents)
    .toString("latin1")
    .replace(asLatin1(objectFile), () => asLatin1(target));
  return Buffer.from(text.split(asLatin1(root)).join(""), "latin1");
}
