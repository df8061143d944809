// Imports from one part into another part's internals that were there when the import rule was
// written (issue 16, item 4): debt to pay, never to add to. Each line: importing part -> imported file.
// Paying a debt = importing the part's contract.ts (or moving the shared code into the kit) and
// deleting the line here; the rule's test names lines that no longer occur.

export const KNOWN_CROSSINGS: ReadonlySet<string> = new Set<string>([]);
