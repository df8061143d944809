// The disclosure check of the secure processing environment: what may leave a workspace. A result
// is a table of cells, each a group of dimension values with the number of distinct research
// pseudonyms in it. A cell under the permit's min_cell is suppressed whole: neither its count nor
// its dimension values leave (a dimension value of a small cell, e.g. a pseudonym or a rare code,
// would itself disclose). What is released is every other cell exactly, and how many were withheld.

export interface ResultCell {
  /** Dimension values, as the researcher's query named them. */
  dims: Record<string, string | number | boolean | null>;
  /** Distinct patients (research pseudonyms) in the cell. */
  n: number;
}

export interface DisclosureVerdict {
  released: ResultCell[];
  /** Cells withheld because they count fewer than minCell patients. */
  suppressed: number;
  minCell: number;
}

export function disclosureCheck(cells: readonly ResultCell[], minCell: number): DisclosureVerdict {
  if (!Number.isInteger(minCell) || minCell < 1) throw new Error(`min_cell must be a positive integer, not ${minCell}`);
  const released: ResultCell[] = [];
  let suppressed = 0;
  for (const cell of cells) {
    // Anything but a whole count at or above the threshold is withheld (deny on doubt).
    if (Number.isSafeInteger(cell.n) && cell.n >= minCell) released.push({ dims: { ...cell.dims }, n: cell.n });
    else suppressed += 1;
  }
  return { released, suppressed, minCell };
}
